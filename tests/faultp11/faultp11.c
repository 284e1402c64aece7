/*
 * faultp11: a PKCS#11 module for csp11's tests that forwards every call to a
 * real module (SoftHSM2) and injects the faults its configuration names.
 *
 * The configuration is a text file named by the environment variable
 * FAULTP11_CONFIG.  It is read when C_GetFunctionList is first called and
 * read again whenever the file changes (another inode, size or mtime), so a
 * test can inject and lift faults while a process runs; a re-read restarts
 * the "after N calls" counts.  Lines:
 *
 *   module PATH                    the real module (read once)
 *   stats PATH                     where to write the statistics after each call
 *   fail FUNC RV [after=N] [times=M] [drop]
 *                                  FUNC (C_Login, ..., or * for every function
 *                                  but C_GetFunctionList/C_Initialize/
 *                                  C_Finalize/C_GetInfo) answers RV (decimal or
 *                                  0x hex) once it has been called N times since
 *                                  the configuration was read, M times in all
 *                                  (0 or absent: always).  drop: the call's
 *                                  session is really closed first, as a token
 *                                  that lost it would have done.
 *   flags [set=X] [clear=Y] [after=FUNC:N]
 *                                  C_GetTokenInfo's flags get X set and Y
 *                                  cleared (once FUNC was called N times).
 *   removed                        the token is out of its slot: every session
 *                                  is closed for real, session calls answer
 *                                  CKR_DEVICE_REMOVED, slot calls
 *                                  CKR_TOKEN_NOT_PRESENT, and C_GetSlotList
 *                                  with tokenPresent lists no slot.
 *
 * The statistics file (written whole, by rename) holds "open_sessions N",
 * "max_open_sessions N", "faults N" and "call FUNC N" lines: sessions counted
 * from the calls that really opened and closed them.
 *
 * Types are declared here (no PKCS#11 header needed to build): every
 * argument is a CK_ULONG, a pointer or (C_GetSlotList's first) a CK_BBOOL.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef unsigned long U;
typedef void *P;
typedef unsigned char B;
typedef U RV;

#define CKR_OK 0x0UL
#define CKR_GENERAL_ERROR 0x5UL
#define CKR_DEVICE_REMOVED 0x32UL
#define CKR_TOKEN_NOT_PRESENT 0xE0UL
#define CKR_ARGUMENTS_BAD 0x7UL
#define TOKEN_INFO_FLAGS_OFFSET 96 /* label 32, manufacturer 32, model 16, serial 16 */
#define SLOT_TOKEN_PRESENT 0x1UL
#define SLOT_INFO_FLAGS_OFFSET 96  /* description 64, manufacturer 32 */

/* X(name, parameter list, argument list, kind): kind S = first argument is a
 * session handle, L = a slot id, N = neither, C = a wrapper written out below.  The order is CK_FUNCTION_LIST's
 * (PKCS#11 v2.40 pkcs11f.h). */
#define FUNCTIONS(X) \
    X(C_Initialize, (P a), (a), N) \
    X(C_Finalize, (P a), (a), N) \
    X(C_GetInfo, (P a), (a), N) \
    X(C_GetFunctionList, (P a), (a), C) \
    X(C_GetSlotList, (B a, P b, P c), (a, b, c), C) \
    X(C_GetSlotInfo, (U a, P b), (a, b), C) \
    X(C_GetTokenInfo, (U a, P b), (a, b), C) \
    X(C_GetMechanismList, (U a, P b, P c), (a, b, c), L) \
    X(C_GetMechanismInfo, (U a, U b, P c), (a, b, c), L) \
    X(C_InitToken, (U a, P b, U c, P d), (a, b, c, d), L) \
    X(C_InitPIN, (U a, P b, U c), (a, b, c), S) \
    X(C_SetPIN, (U a, P b, U c, P d, U e), (a, b, c, d, e), S) \
    X(C_OpenSession, (U a, U b, P c, P d, P e), (a, b, c, d, e), C) \
    X(C_CloseSession, (U a), (a), S) \
    X(C_CloseAllSessions, (U a), (a), L) \
    X(C_GetSessionInfo, (U a, P b), (a, b), S) \
    X(C_GetOperationState, (U a, P b, P c), (a, b, c), S) \
    X(C_SetOperationState, (U a, P b, U c, U d, U e), (a, b, c, d, e), S) \
    X(C_Login, (U a, U b, P c, U d), (a, b, c, d), S) \
    X(C_Logout, (U a), (a), S) \
    X(C_CreateObject, (U a, P b, U c, P d), (a, b, c, d), S) \
    X(C_CopyObject, (U a, U b, P c, U d, P e), (a, b, c, d, e), S) \
    X(C_DestroyObject, (U a, U b), (a, b), S) \
    X(C_GetObjectSize, (U a, U b, P c), (a, b, c), S) \
    X(C_GetAttributeValue, (U a, U b, P c, U d), (a, b, c, d), S) \
    X(C_SetAttributeValue, (U a, U b, P c, U d), (a, b, c, d), S) \
    X(C_FindObjectsInit, (U a, P b, U c), (a, b, c), S) \
    X(C_FindObjects, (U a, P b, U c, P d), (a, b, c, d), S) \
    X(C_FindObjectsFinal, (U a), (a), S) \
    X(C_EncryptInit, (U a, P b, U c), (a, b, c), S) \
    X(C_Encrypt, (U a, P b, U c, P d, P e), (a, b, c, d, e), S) \
    X(C_EncryptUpdate, (U a, P b, U c, P d, P e), (a, b, c, d, e), S) \
    X(C_EncryptFinal, (U a, P b, P c), (a, b, c), S) \
    X(C_DecryptInit, (U a, P b, U c), (a, b, c), S) \
    X(C_Decrypt, (U a, P b, U c, P d, P e), (a, b, c, d, e), S) \
    X(C_DecryptUpdate, (U a, P b, U c, P d, P e), (a, b, c, d, e), S) \
    X(C_DecryptFinal, (U a, P b, P c), (a, b, c), S) \
    X(C_DigestInit, (U a, P b), (a, b), S) \
    X(C_Digest, (U a, P b, U c, P d, P e), (a, b, c, d, e), S) \
    X(C_DigestUpdate, (U a, P b, U c), (a, b, c), S) \
    X(C_DigestKey, (U a, U b), (a, b), S) \
    X(C_DigestFinal, (U a, P b, P c), (a, b, c), S) \
    X(C_SignInit, (U a, P b, U c), (a, b, c), S) \
    X(C_Sign, (U a, P b, U c, P d, P e), (a, b, c, d, e), S) \
    X(C_SignUpdate, (U a, P b, U c), (a, b, c), S) \
    X(C_SignFinal, (U a, P b, P c), (a, b, c), S) \
    X(C_SignRecoverInit, (U a, P b, U c), (a, b, c), S) \
    X(C_SignRecover, (U a, P b, U c, P d, P e), (a, b, c, d, e), S) \
    X(C_VerifyInit, (U a, P b, U c), (a, b, c), S) \
    X(C_Verify, (U a, P b, U c, P d, U e), (a, b, c, d, e), S) \
    X(C_VerifyUpdate, (U a, P b, U c), (a, b, c), S) \
    X(C_VerifyFinal, (U a, P b, U c), (a, b, c), S) \
    X(C_VerifyRecoverInit, (U a, P b, U c), (a, b, c), S) \
    X(C_VerifyRecover, (U a, P b, U c, P d, P e), (a, b, c, d, e), S) \
    X(C_DigestEncryptUpdate, (U a, P b, U c, P d, P e), (a, b, c, d, e), S) \
    X(C_DecryptDigestUpdate, (U a, P b, U c, P d, P e), (a, b, c, d, e), S) \
    X(C_SignEncryptUpdate, (U a, P b, U c, P d, P e), (a, b, c, d, e), S) \
    X(C_DecryptVerifyUpdate, (U a, P b, U c, P d, P e), (a, b, c, d, e), S) \
    X(C_GenerateKey, (U a, P b, P c, U d, P e), (a, b, c, d, e), S) \
    X(C_GenerateKeyPair, (U a, P b, P c, U d, P e, U f, P g, P h), (a, b, c, d, e, f, g, h), S) \
    X(C_WrapKey, (U a, P b, U c, U d, P e, P f), (a, b, c, d, e, f), S) \
    X(C_UnwrapKey, (U a, P b, U c, P d, U e, P f, U g, P h), (a, b, c, d, e, f, g, h), S) \
    X(C_DeriveKey, (U a, P b, U c, P d, U e, P f), (a, b, c, d, e, f), S) \
    X(C_SeedRandom, (U a, P b, U c), (a, b, c), S) \
    X(C_GenerateRandom, (U a, P b, U c), (a, b, c), S) \
    X(C_GetFunctionStatus, (U a), (a), S) \
    X(C_CancelFunction, (U a), (a), S) \
    X(C_WaitForSlotEvent, (U a, P b, P c), (a, b, c), N)

enum {
#define X_INDEX(name, params, args, kind) I_##name,
    FUNCTIONS(X_INDEX)
    N_FUNCTIONS
};

static const char *const names[N_FUNCTIONS] = {
#define X_NAME(name, params, args, kind) #name,
    FUNCTIONS(X_NAME)
};

typedef struct {
    B major, minor;
} version_t;

typedef struct {
    version_t version;
#define X_FIELD(name, params, args, kind) RV(*name) params;
    FUNCTIONS(X_FIELD)
} function_list_t;

#define MAX_RULES 32
#define MAX_SESSIONS 4096

typedef struct {
    int function; /* -1: every function */
    RV rv;
    unsigned long after, times, fired;
    int drop;
} rule_t;

static pthread_mutex_t state = PTHREAD_MUTEX_INITIALIZER;
static function_list_t *real;
static function_list_t mine;
static char config_path[4096], stats_path[4096];
static struct stat config_seen;
static rule_t rules[MAX_RULES];
static int n_rules;
static U flags_set, flags_clear;
static int flags_after_function = -1;
static unsigned long flags_after;
static int removed, removal_done;
static unsigned long calls[N_FUNCTIONS];     /* since the process started */
static unsigned long since[N_FUNCTIONS];     /* since the configuration was read */
static unsigned long faults;
static U sessions[MAX_SESSIONS];
static int n_sessions, max_sessions;

static int function_index(const char *name) {
    for (int i = 0; i < N_FUNCTIONS; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -2;
}

static void parse_rule(char *rest) {
    if (n_rules == MAX_RULES)
        return;
    rule_t *rule = &rules[n_rules];
    memset(rule, 0, sizeof *rule);
    char *function = strtok(rest, " \t");
    char *rv = strtok(NULL, " \t");
    if (function == NULL || rv == NULL)
        return;
    rule->function = strcmp(function, "*") == 0 ? -1 : function_index(function);
    if (rule->function == -2)
        return;
    rule->rv = strtoul(rv, NULL, 0);
    for (char *word = strtok(NULL, " \t"); word; word = strtok(NULL, " \t")) {
        if (strncmp(word, "after=", 6) == 0)
            rule->after = strtoul(word + 6, NULL, 0);
        else if (strncmp(word, "times=", 6) == 0)
            rule->times = strtoul(word + 6, NULL, 0);
        else if (strcmp(word, "drop") == 0)
            rule->drop = 1;
    }
    n_rules++;
}

static void parse_flags(char *rest) {
    for (char *word = strtok(rest, " \t"); word; word = strtok(NULL, " \t")) {
        if (strncmp(word, "set=", 4) == 0)
            flags_set = strtoul(word + 4, NULL, 0);
        else if (strncmp(word, "clear=", 6) == 0)
            flags_clear = strtoul(word + 6, NULL, 0);
        else if (strncmp(word, "after=", 6) == 0) {
            char *colon = strchr(word + 6, ':');
            if (colon) {
                *colon = '\0';
                flags_after_function = function_index(word + 6);
                flags_after = strtoul(colon + 1, NULL, 0);
            }
        }
    }
}

/* Read the configuration again if the file changed; called with the lock held. */
static void reload(void) {
    struct stat now;
    if (stat(config_path, &now) != 0)
        return;
    if (now.st_ino == config_seen.st_ino && now.st_size == config_seen.st_size &&
        now.st_mtim.tv_sec == config_seen.st_mtim.tv_sec &&
        now.st_mtim.tv_nsec == config_seen.st_mtim.tv_nsec)
        return;
    config_seen = now;
    FILE *f = fopen(config_path, "r");
    if (f == NULL)
        return;
    n_rules = 0;
    flags_set = flags_clear = 0;
    flags_after_function = -1;
    flags_after = 0;
    int was_removed = removed;
    removed = 0;
    memset(since, 0, sizeof since);
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strncmp(line, "stats ", 6) == 0)
            snprintf(stats_path, sizeof stats_path, "%s", line + 6);
        else if (strncmp(line, "fail ", 5) == 0)
            parse_rule(line + 5);
        else if (strncmp(line, "flags ", 6) == 0)
            parse_flags(line + 6);
        else if (strcmp(line, "removed") == 0)
            removed = 1;
    }
    fclose(f);
    if (removed && !was_removed)
        removal_done = 0;
}

static void write_stats(void) {
    if (stats_path[0] == '\0')
        return;
    char temporary[4200];
    snprintf(temporary, sizeof temporary, "%s.%d.tmp", stats_path, (int)getpid());
    FILE *f = fopen(temporary, "w");
    if (f == NULL)
        return;
    fprintf(f, "open_sessions %d\nmax_open_sessions %d\nfaults %lu\n", n_sessions,
            max_sessions, faults);
    for (int i = 0; i < N_FUNCTIONS; i++)
        if (calls[i])
            fprintf(f, "call %s %lu\n", names[i], calls[i]);
    fclose(f);
    rename(temporary, stats_path);
}

static void session_opened(U handle) {
    if (n_sessions < MAX_SESSIONS)
        sessions[n_sessions++] = handle;
    if (n_sessions > max_sessions)
        max_sessions = n_sessions;
}

static void session_closed(U handle) {
    for (int i = 0; i < n_sessions; i++)
        if (sessions[i] == handle) {
            sessions[i] = sessions[--n_sessions];
            return;
        }
}

/* The token leaves its slot: every session ends for real, as on a token that
 * was pulled out.  Called with the lock held. */
static void remove_token(void) {
    for (int i = 0; i < n_sessions; i++)
        real->C_CloseSession(sessions[i]);
    n_sessions = 0;
    removal_done = 1;
}

/* Before a call: the fault to answer instead (0: none, forward the call). */
static RV before(int function, char kind, U session, int *dropped) {
    RV answer = CKR_OK;
    pthread_mutex_lock(&state);
    reload();
    calls[function]++;
    since[function]++;
    int core = function == I_C_GetFunctionList || function == I_C_Initialize ||
               function == I_C_Finalize || function == I_C_GetInfo;
    if (removed && !core) {
        if (!removal_done)
            remove_token();
        if (kind == 'S')
            answer = CKR_DEVICE_REMOVED;
        else if (kind == 'L' && function != I_C_GetSlotInfo && function != I_C_CloseAllSessions)
            answer = CKR_TOKEN_NOT_PRESENT;
    }
    for (int i = 0; answer == CKR_OK && i < n_rules; i++) {
        rule_t *rule = &rules[i];
        if (rule->function != function && !(rule->function == -1 && !core))
            continue;
        if (since[function] <= rule->after)
            continue;
        if (rule->times && rule->fired >= rule->times)
            continue;
        rule->fired++;
        answer = rule->rv;
        if (rule->drop && kind == 'S') {
            real->C_CloseSession(session);
            session_closed(session);
            *dropped = 1;
        }
    }
    if (answer != CKR_OK) {
        faults++;
        write_stats();
    }
    pthread_mutex_unlock(&state);
    return answer;
}

/* After a forwarded call: track sessions, change token flags, write the stats. */
static void after(int function, RV rv, U first, P out) {
    pthread_mutex_lock(&state);
    if (rv == CKR_OK) {
        if (function == I_C_OpenSession)
            session_opened(*(U *)out);
        else if (function == I_C_CloseSession)
            session_closed(first);
        else if (function == I_C_CloseAllSessions || function == I_C_Finalize)
            n_sessions = 0;
        else if (function == I_C_GetTokenInfo) {
            int due = flags_after_function < 0 || since[flags_after_function] >= flags_after;
            if (due) {
                U *flags = (U *)((char *)out + TOKEN_INFO_FLAGS_OFFSET);
                *flags = (*flags | flags_set) & ~flags_clear;
            }
        } else if (function == I_C_GetSlotInfo && removed) {
            U *flags = (U *)((char *)out + SLOT_INFO_FLAGS_OFFSET);
            *flags &= ~SLOT_TOKEN_PRESENT;
        }
    }
    write_stats();
    pthread_mutex_unlock(&state);
}


/* The wrappers: count, maybe fail, forward, track.  Generated for kinds S, L
 * and N; the five of kind C are written out. */
#define X_WRAPPER(name, params, args, kind) X_WRAPPER_##kind(name, params, args)
#define X_WRAPPER_C(name, params, args)
#define X_WRAPPER_ANY(name, params, args, kind, first) \
    static RV w_##name params { \
        int dropped = 0; \
        RV rv = before(I_##name, kind, first, &dropped); \
        if (rv != CKR_OK) \
            return rv; \
        rv = real->name args; \
        after(I_##name, rv, first, NULL); \
        return rv; \
    }
#define X_WRAPPER_S(name, params, args) X_WRAPPER_ANY(name, params, args, 'S', (U)a)
#define X_WRAPPER_L(name, params, args) X_WRAPPER_ANY(name, params, args, 'L', (U)a)
#define X_WRAPPER_N(name, params, args) X_WRAPPER_ANY(name, params, args, 'N', 0)
FUNCTIONS(X_WRAPPER)

static RV w_C_OpenSession(U a, U b, P c, P d, P e) {
    int dropped = 0;
    RV rv = before(I_C_OpenSession, 'L', a, &dropped);
    if (rv != CKR_OK)
        return rv;
    rv = real->C_OpenSession(a, b, c, d, e);
    after(I_C_OpenSession, rv, a, e);
    return rv;
}

static RV w_C_GetTokenInfo(U a, P b) {
    int dropped = 0;
    RV rv = before(I_C_GetTokenInfo, 'L', a, &dropped);
    if (rv != CKR_OK)
        return rv;
    rv = real->C_GetTokenInfo(a, b);
    after(I_C_GetTokenInfo, rv, a, b);
    return rv;
}

static RV w_C_GetSlotInfo(U a, P b) {
    int dropped = 0;
    RV rv = before(I_C_GetSlotInfo, 'L', a, &dropped);
    if (rv != CKR_OK)
        return rv;
    rv = real->C_GetSlotInfo(a, b);
    after(I_C_GetSlotInfo, rv, a, b);
    return rv;
}

static RV w_C_GetSlotList(B a, P b, P c) {
    int dropped = 0;
    RV rv = before(I_C_GetSlotList, 'N', 0, &dropped);
    if (rv != CKR_OK)
        return rv;
    pthread_mutex_lock(&state);
    int gone = removed;
    pthread_mutex_unlock(&state);
    if (gone && a) {
        /* No slot has a token in it. */
        if (c == NULL)
            return CKR_ARGUMENTS_BAD;
        *(U *)c = 0;
        after(I_C_GetSlotList, CKR_OK, 0, NULL);
        return CKR_OK;
    }
    rv = real->C_GetSlotList(a, b, c);
    after(I_C_GetSlotList, rv, 0, NULL);
    return rv;
}

static RV w_C_GetFunctionList(P a);

/* Load the real module named by the configuration, once. */
static RV load(void) {
    if (real != NULL)
        return CKR_OK;
    const char *path = getenv("FAULTP11_CONFIG");
    if (path == NULL)
        return CKR_GENERAL_ERROR;
    snprintf(config_path, sizeof config_path, "%s", path);
    FILE *f = fopen(config_path, "r");
    if (f == NULL)
        return CKR_GENERAL_ERROR;
    char line[4096], module[4096] = "";
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strncmp(line, "module ", 7) == 0)
            snprintf(module, sizeof module, "%s", line + 7);
    }
    fclose(f);
    void *handle = dlopen(module, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL)
        return CKR_GENERAL_ERROR;
    RV (*get)(function_list_t **) = (RV(*)(function_list_t **))dlsym(handle, "C_GetFunctionList");
    function_list_t *list = NULL;
    if (get == NULL || get(&list) != CKR_OK || list == NULL)
        return CKR_GENERAL_ERROR;
    real = list;
    mine.version = real->version;
#define X_ASSIGN(name, params, args, kind) mine.name = w_##name;
    FUNCTIONS(X_ASSIGN)
    reload();
    return CKR_OK;
}

static RV w_C_GetFunctionList(P a) {
    if (a == NULL)
        return CKR_ARGUMENTS_BAD;
    pthread_mutex_lock(&state);
    RV rv = load();
    pthread_mutex_unlock(&state);
    if (rv != CKR_OK)
        return rv;
    *(function_list_t **)a = &mine;
    return CKR_OK;
}

__attribute__((visibility("default"))) RV C_GetFunctionList(function_list_t **list) {
    return w_C_GetFunctionList(list);
}
