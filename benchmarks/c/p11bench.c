/* p11bench: the C baseline for csp11's benchmarks (benchmarks/bench_vs_c.py).
 *
 * dlopens a PKCS#11 module, logs in to the token with the given label and
 * times the same operations csp11 runs, straight on the module's function
 * list, printing one line per operation: "name median_us calls".
 *
 *   p11bench MODULE LABEL PIN N OP...
 *   OP: genkey aescbc aescbc_dec sha256 rsasign rsasign_token random32 random1m rsagen1024
 *       (rsasign: a session key pair; rsasign_token: a token-object pair, as a
 *       key container's)
 *       bulk:MIB:CHUNK_KIB   (multi-part AES-CBC over MIB MiB; prints MiB/s)
 *       chain:MIB:CHUNK_KIB  (one-shot AES-CBC per chunk, chained; prints MiB/s)
 *       file:enc:IN:OUT, file:dec:IN:OUT  (the work of `csp11 encrypt`/`decrypt`
 *                            on three threads, as csp11 runs it; prints MiB/s)
 *       threads:T:SECONDS    (RSA-1024 key pairs made and destroyed by T threads, each
 *                             on a session of its own, for SECONDS; prints pairs/s)
 *
 * The PIN comes on the command line only because this is a benchmark on a
 * throw-away token made for the run.  No PKCS#11 header is needed: the few
 * types and constants used are spelled out below (PKCS #11 v2.40).
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef unsigned long CK_ULONG;
typedef CK_ULONG CK_RV;
typedef struct { CK_ULONG type; void *pValue; CK_ULONG ulValueLen; } CK_ATTRIBUTE;
typedef struct { CK_ULONG mechanism; void *pParameter; CK_ULONG ulParameterLen; } CK_MECHANISM;
typedef struct { void *create, *destroy, *lock, *unlock; CK_ULONG flags; void *reserved; } CK_INIT_ARGS;
typedef struct { unsigned char major, minor; void *fn[68]; } CK_FUNCTION_LIST;

/* Positions in CK_FUNCTION_LIST (pkcs11f.h order). */
enum { F_INITIALIZE = 0, F_GET_SLOT_LIST = 4, F_GET_TOKEN_INFO = 6, F_OPEN_SESSION = 12,
       F_LOGIN = 18, F_DESTROY_OBJECT = 22, F_ENCRYPT_INIT = 29, F_ENCRYPT = 30,
       F_ENCRYPT_UPDATE = 31, F_ENCRYPT_FINAL = 32, F_DECRYPT_INIT = 33, F_DECRYPT = 34, F_DECRYPT_UPDATE = 35, F_DECRYPT_FINAL = 36,
       F_DIGEST_INIT = 37, F_DIGEST = 38, F_DIGEST_UPDATE = 39, F_DIGEST_FINAL = 41,
       F_SIGN_INIT = 42, F_SIGN = 43, F_GENERATE_KEY = 58, F_GENERATE_KEY_PAIR = 59,
       F_GENERATE_RANDOM = 64 };

typedef CK_RV (*fn_init)(void *);
typedef CK_RV (*fn_slots)(unsigned char, CK_ULONG *, CK_ULONG *);
typedef CK_RV (*fn_tinfo)(CK_ULONG, void *);
typedef CK_RV (*fn_open)(CK_ULONG, CK_ULONG, void *, void *, CK_ULONG *);
typedef CK_RV (*fn_login)(CK_ULONG, CK_ULONG, const unsigned char *, CK_ULONG);
typedef CK_RV (*fn_destroy)(CK_ULONG, CK_ULONG);
typedef CK_RV (*fn_opinit)(CK_ULONG, CK_MECHANISM *, CK_ULONG);
typedef CK_RV (*fn_dinit)(CK_ULONG, CK_MECHANISM *);
typedef CK_RV (*fn_crypt)(CK_ULONG, const unsigned char *, CK_ULONG, unsigned char *, CK_ULONG *);
typedef CK_RV (*fn_final)(CK_ULONG, unsigned char *, CK_ULONG *);
typedef CK_RV (*fn_dupdate)(CK_ULONG, const unsigned char *, CK_ULONG);
typedef CK_RV (*fn_genkey)(CK_ULONG, CK_MECHANISM *, CK_ATTRIBUTE *, CK_ULONG, CK_ULONG *);
typedef CK_RV (*fn_genpair)(CK_ULONG, CK_MECHANISM *, CK_ATTRIBUTE *, CK_ULONG, CK_ATTRIBUTE *,
                            CK_ULONG, CK_ULONG *, CK_ULONG *);
typedef CK_RV (*fn_random)(CK_ULONG, unsigned char *, CK_ULONG);

static CK_FUNCTION_LIST *fl;
static CK_ULONG session;
#define CALL(idx, type) ((type)fl->fn[idx])
#define MIB (1UL << 20)

static void check(CK_RV rv, const char *what) {
    if (rv) { fprintf(stderr, "p11bench: %s failed: 0x%lx\n", what, rv); exit(2); }
}

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static unsigned char TRUE_ = 1, FALSE_ = 0;
static CK_ULONG SECRET = 4, AES = 0x1f, LEN32 = 32, BITS2048 = 2048, BITS1024 = 1024;
static unsigned char F4[] = {1, 0, 1};
static unsigned char *in, *out, iv[16];
static CK_ULONG aes_key, rsa_priv;

/* csp11's own session-key template (csp11.core.templates.session_template). */
static CK_ATTRIBUTE aes_tpl[] = {
    {0x000, &SECRET, sizeof SECRET}, {0x100, &AES, sizeof AES}, {0x001, &FALSE_, 1},
    {0x002, &FALSE_, 1}, {0x103, &TRUE_, 1}, {0x162, &FALSE_, 1}, {0x104, &TRUE_, 1},
    {0x105, &TRUE_, 1}, {0x161, &LEN32, sizeof LEN32},
};

static void genkey(void) {
    CK_MECHANISM m = {0x1080, NULL, 0};
    CK_ULONG key;
    check(CALL(F_GENERATE_KEY, fn_genkey)(session, &m, aes_tpl, 9, &key), "C_GenerateKey");
    check(CALL(F_DESTROY_OBJECT, fn_destroy)(session, key), "C_DestroyObject");
}

static void aescbc(void) {
    CK_MECHANISM m = {0x1082, iv, 16};
    CK_ULONG n = MIB;
    check(CALL(F_ENCRYPT_INIT, fn_opinit)(session, &m, aes_key), "C_EncryptInit");
    check(CALL(F_ENCRYPT, fn_crypt)(session, in, MIB, out, &n), "C_Encrypt");
}

static unsigned char *sealed;

static void aescbc_dec(void) {
    CK_MECHANISM m = {0x1082, iv, 16};
    CK_ULONG n = MIB;
    check(CALL(F_DECRYPT_INIT, fn_opinit)(session, &m, aes_key), "C_DecryptInit");
    check(CALL(F_DECRYPT, fn_crypt)(session, sealed, MIB, out, &n), "C_Decrypt");
}

static void sha256(void) {
    CK_MECHANISM m = {0x250, NULL, 0};
    unsigned char digest[32];
    CK_ULONG n = 32;
    check(CALL(F_DIGEST_INIT, fn_dinit)(session, &m), "C_DigestInit");
    check(CALL(F_DIGEST, fn_crypt)(session, in, MIB, digest, &n), "C_Digest");
}

/* A key pair; `token` makes both persistent token objects (as a key
 * container's pair is), destroyed again at the end of the run. */
static void keypair_on(CK_ULONG *bits, unsigned char *token, CK_ULONG *pub, CK_ULONG *priv) {
    CK_MECHANISM m = {0, NULL, 0};
    CK_ATTRIBUTE pt[] = {{0x001, token, 1}, {0x10A, &TRUE_, 1}, {0x121, bits, sizeof *bits},
                         {0x122, F4, 3}};
    CK_ATTRIBUTE vt[] = {{0x001, token, 1}, {0x002, &TRUE_, 1}, {0x103, &TRUE_, 1},
                         {0x108, &TRUE_, 1}, {0x162, &FALSE_, 1}};
    check(CALL(F_GENERATE_KEY_PAIR, fn_genpair)(session, &m, pt, 4, vt, 5, pub, priv),
          "C_GenerateKeyPair");
}

/* The same on a given session (threads:). */
static void keypair_in(CK_ULONG on, CK_ULONG *bits, CK_ULONG *pub, CK_ULONG *priv) {
    CK_MECHANISM m = {0, NULL, 0};
    CK_ATTRIBUTE pt[] = {{0x001, &FALSE_, 1}, {0x10A, &TRUE_, 1}, {0x121, bits, sizeof *bits},
                         {0x122, F4, 3}};
    CK_ATTRIBUTE vt[] = {{0x001, &FALSE_, 1}, {0x002, &TRUE_, 1}, {0x103, &TRUE_, 1},
                         {0x108, &TRUE_, 1}, {0x162, &FALSE_, 1}};
    check(CALL(F_GENERATE_KEY_PAIR, fn_genpair)(on, &m, pt, 4, vt, 5, pub, priv),
          "C_GenerateKeyPair");
}

static void keypair(CK_ULONG *bits, CK_ULONG *pub, CK_ULONG *priv) {
    keypair_on(bits, &FALSE_, pub, priv);
}

static void rsagen1024(void) {
    CK_ULONG pub, priv;
    keypair(&BITS1024, &pub, &priv);
    CALL(F_DESTROY_OBJECT, fn_destroy)(session, pub);
    CALL(F_DESTROY_OBJECT, fn_destroy)(session, priv);
}

/* PKCS#1 v1.5 of a SHA-256 DigestInfo, as CryptSignHash asks the token for. */
static void rsasign(void) {
    static const unsigned char info[51] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48,
        0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
    CK_MECHANISM m = {1, NULL, 0};
    unsigned char sig[512];
    CK_ULONG n = sizeof sig;
    check(CALL(F_SIGN_INIT, fn_opinit)(session, &m, rsa_priv), "C_SignInit");
    check(CALL(F_SIGN, fn_crypt)(session, info, sizeof info, sig, &n), "C_Sign");
}

static void random32(void) {
    check(CALL(F_GENERATE_RANDOM, fn_random)(session, out, 32), "C_GenerateRandom");
}

static void random1m(void) {
    check(CALL(F_GENERATE_RANDOM, fn_random)(session, out, MIB), "C_GenerateRandom");
}

static void timed(const char *name, void (*op)(void), int n) {
    double *t = malloc(n * sizeof *t);
    op();  /* warm up */
    for (int i = 0; i < n; i++) {
        double start = now_us();
        op();
        t[i] = now_us() - start;
    }
    qsort(t, n, sizeof *t, cmp);
    printf("%s %.2f %d\n", name, t[n / 2], n);
    free(t);
}

/* Multi-part AES-CBC over `mib` MiB of memory in `chunk`-byte updates: the raw
 * token throughput a file encryption can reach. */
static void bulk(const char *spec) {
    unsigned long mib = 0, kib = 0;
    if (sscanf(spec, "bulk:%lu:%lu", &mib, &kib) != 2 || !mib || !kib) {
        fprintf(stderr, "p11bench: bad %s\n", spec);
        exit(2);
    }
    CK_ULONG chunk = kib * 1024;
    unsigned char *src = calloc(1, chunk), *dst = malloc(chunk + 16);
    CK_MECHANISM m = {0x1082, iv, 16};
    unsigned long long total = (unsigned long long)mib * MIB;
    double start = now_us();
    check(CALL(F_ENCRYPT_INIT, fn_opinit)(session, &m, aes_key), "C_EncryptInit");
    for (unsigned long long done = 0; done < total; done += chunk) {
        CK_ULONG n = chunk + 16;
        check(CALL(F_ENCRYPT_UPDATE, fn_crypt)(session, src, chunk, dst, &n), "C_EncryptUpdate");
    }
    CK_ULONG n = chunk + 16;
    check(CALL(F_ENCRYPT_FINAL, fn_final)(session, dst, &n), "C_EncryptFinal");
    double secs = (now_us() - start) / 1e6;
    printf("%s %.1f MiB/s\n", spec, mib / secs);
    free(src);
    free(dst);
}

/* One-shot C_Encrypt per chunk, each chained on the last ciphertext block
 * (what CryptEncrypt(Final=FALSE) does per call): the raw rate a file
 * encryption by chunks can reach. */
static void chain(const char *spec) {
    unsigned long mib = 0, kib = 0;
    if (sscanf(spec, "chain:%lu:%lu", &mib, &kib) != 2 || !mib || !kib) {
        fprintf(stderr, "p11bench: bad %s\n", spec);
        exit(2);
    }
    CK_ULONG chunk = kib * 1024;
    unsigned char *src = calloc(1, chunk), *dst = malloc(chunk + 16), next[16] = {0};
    unsigned long long total = (unsigned long long)mib * MIB;
    double start = now_us();
    for (unsigned long long done = 0; done < total; done += chunk) {
        CK_MECHANISM m = {0x1082, next, 16};
        CK_ULONG n = chunk + 16;
        check(CALL(F_ENCRYPT_INIT, fn_opinit)(session, &m, aes_key), "C_EncryptInit");
        check(CALL(F_ENCRYPT, fn_crypt)(session, src, chunk, dst, &n), "C_Encrypt");
        memcpy(next, dst + n - 16, 16);
    }
    double secs = (now_us() - start) / 1e6;
    printf("%s %.1f MiB/s\n", spec, mib / secs);
    free(src);
    free(dst);
}

/* file:enc:IN:OUT and file:dec:IN:OUT: what `csp11 encrypt`/`decrypt` do to a
 * file's bytes, in C and on csp11's threads, as the ceiling of the command line
 * on this machine.  The main thread reads IN in 1 MiB pieces and encrypts
 * each (C_EncryptUpdate in 256 KiB pieces of one operation) or decrypts it
 * (one operation per 256 KiB piece, each chained on the block before it); a
 * second thread hashes the ciphertext on a session of its own
 * (C_DigestUpdate, SHA-256); a third writes the result to OUT.  SLOTS pieces
 * in flight.  No header, no signature, no padding (IN: whole AES blocks). */
#define SLOTS 4
static CK_ULONG the_slot;
#define FILE_PIECE MIB
#define CALL_PIECE (256UL * 1024)
struct slot { unsigned char *in, *out; CK_ULONG len; int users; };
static struct slot slots[SLOTS];
static sem_t free_slots, to_hash, to_write;
static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long pieces;
static int decrypting, out_fd;
static CK_ULONG hash_session;
static double hash_cpu, write_cpu;  /* seconds of CPU of each thread */

static double thread_cpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void slot_done(struct slot *s) {
    pthread_mutex_lock(&slot_lock);
    int last = --s->users == 0;
    pthread_mutex_unlock(&slot_lock);
    if (last) sem_post(&free_slots);
}

static void *hasher(void *arg) {
    (void)arg;
    for (unsigned long i = 0; i < pieces; i++) {
        sem_wait(&to_hash);
        struct slot *s = &slots[i % SLOTS];
        check(((fn_dupdate)fl->fn[F_DIGEST_UPDATE])(hash_session, decrypting ? s->in : s->out,
                                                    s->len), "C_DigestUpdate");
        slot_done(s);
    }
    hash_cpu = thread_cpu();
    return NULL;
}

static void *writer(void *arg) {
    (void)arg;
    for (unsigned long i = 0; i < pieces; i++) {
        sem_wait(&to_write);
        struct slot *s = &slots[i % SLOTS];
        for (CK_ULONG at = 0; at < s->len;) {
            ssize_t n = write(out_fd, s->out + at, s->len - at);
            if (n <= 0) { perror("p11bench: write"); exit(2); }
            at += (CK_ULONG)n;
        }
        slot_done(s);
    }
    write_cpu = thread_cpu();
    return NULL;
}

static void crypt_piece(struct slot *s, unsigned char *chain) {
    CK_ULONG w = 0;
    if (!decrypting) {
        for (CK_ULONG at = 0; at < s->len; at += CALL_PIECE) {
            CK_ULONG n = FILE_PIECE - w, len = s->len - at < CALL_PIECE ? s->len - at : CALL_PIECE;
            check(CALL(F_ENCRYPT_UPDATE, fn_crypt)(session, s->in + at, len, s->out + w, &n),
                  "C_EncryptUpdate");
            w += n;
        }
        return;
    }
    for (CK_ULONG at = 0; at < s->len; at += CALL_PIECE) {
        CK_MECHANISM m = {0x1082, chain, 16};
        CK_ULONG n = FILE_PIECE - w, len = s->len - at < CALL_PIECE ? s->len - at : CALL_PIECE, k = 16;
        unsigned char end[16];
        check(CALL(F_DECRYPT_INIT, fn_opinit)(session, &m, aes_key), "C_DecryptInit");
        check(CALL(F_DECRYPT_UPDATE, fn_crypt)(session, s->in + at, len, s->out + w, &n),
              "C_DecryptUpdate");
        check(CALL(F_DECRYPT_FINAL, fn_final)(session, end, &k), "C_DecryptFinal");
        memcpy(chain, s->in + at + len - 16, 16);
        w += n;
    }
}

static void file_op(const char *spec) {
    char how[4], src[1024], dst[1024];
    if (sscanf(spec, "file:%3[a-z]:%1023[^:]:%1023s", how, src, dst) != 3 ||
        (strcmp(how, "enc") && strcmp(how, "dec"))) {
        fprintf(stderr, "p11bench: bad %s\n", spec);
        exit(2);
    }
    decrypting = !strcmp(how, "dec");
    int in_fd = open(src, O_RDONLY);
    struct stat st;
    if (in_fd < 0 || fstat(in_fd, &st) || st.st_size % 16) {
        fprintf(stderr, "p11bench: %s: not a readable file of whole blocks\n", src);
        exit(2);
    }
    unlink(dst);  /* fresh pages, as csp11's unnamed output has */
    out_fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out_fd < 0) { perror("p11bench: open"); exit(2); }
    pieces = ((unsigned long)st.st_size + FILE_PIECE - 1) / FILE_PIECE;
    for (int i = 0; i < SLOTS; i++) {
        slots[i].in = malloc(FILE_PIECE);
        slots[i].out = malloc(FILE_PIECE);
    }
    sem_init(&free_slots, 0, SLOTS);
    sem_init(&to_hash, 0, 0);
    sem_init(&to_write, 0, 0);
    check(CALL(F_OPEN_SESSION, fn_open)(the_slot, 6, NULL, NULL, &hash_session), "C_OpenSession");
    CK_MECHANISM sha = {0x250, NULL, 0}, cbc = {0x1082, iv, 16};
    unsigned char chain[16];
    memcpy(chain, iv, 16);
    double start = now_us(), main_cpu = thread_cpu();
    check(CALL(F_DIGEST_INIT, fn_dinit)(hash_session, &sha), "C_DigestInit");
    if (!decrypting) check(CALL(F_ENCRYPT_INIT, fn_opinit)(session, &cbc, aes_key), "C_EncryptInit");
    pthread_t h, w;
    pthread_create(&h, NULL, hasher, NULL);
    pthread_create(&w, NULL, writer, NULL);
    for (unsigned long i = 0; i < pieces; i++) {
        sem_wait(&free_slots);
        struct slot *s = &slots[i % SLOTS];
        s->len = 0;
        while (s->len < FILE_PIECE) {
            ssize_t n = read(in_fd, s->in + s->len, FILE_PIECE - s->len);
            if (n < 0) { perror("p11bench: read"); exit(2); }
            if (!n) break;
            s->len += (CK_ULONG)n;
        }
        s->users = 2;
        if (decrypting) sem_post(&to_hash);  /* the ciphertext is the input */
        crypt_piece(s, chain);
        if (!decrypting) sem_post(&to_hash);
        sem_post(&to_write);
    }
    pthread_join(h, NULL);
    pthread_join(w, NULL);
    unsigned char digest[32], end[16];
    CK_ULONG n = 32, k = 16;
    check(CALL(F_DIGEST_FINAL, fn_final)(hash_session, digest, &n), "C_DigestFinal");
    if (!decrypting) check(CALL(F_ENCRYPT_FINAL, fn_final)(session, end, &k), "C_EncryptFinal");
    close(out_fd);
    double secs = (now_us() - start) / 1e6, mib = (double)st.st_size / MIB;
    main_cpu = thread_cpu() - main_cpu;
    /* CPU per MiB of each thread, in ms: where the two vCPUs go. */
    printf("%s %.1f MiB/s cpu_ms_per_mib main=%.3f hash=%.3f write=%.3f\n", spec, mib / secs,
           main_cpu / mib * 1e3, hash_cpu / mib * 1e3, write_cpu / mib * 1e3);
    close(in_fd);
    for (int i = 0; i < SLOTS; i++) {
        free(slots[i].in);
        free(slots[i].out);
    }
}

/* threads: each thread opens a session of its own and makes RSA-1024 pairs until
 * the deadline; the token's own scaling ceiling on this machine. */
static double deadline;
struct worker { pthread_t id; unsigned long pairs; };

static void *pair_loop(void *arg) {
    struct worker *w = arg;
    CK_ULONG own;
    check(CALL(F_OPEN_SESSION, fn_open)(the_slot, 6, NULL, NULL, &own), "C_OpenSession");
    while (now_us() < deadline) {
        CK_ULONG pub, priv;
        keypair_in(own, &BITS1024, &pub, &priv);
        CALL(F_DESTROY_OBJECT, fn_destroy)(own, pub);
        CALL(F_DESTROY_OBJECT, fn_destroy)(own, priv);
        w->pairs++;
    }
    return NULL;
}

static void threads(const char *spec) {
    unsigned long count = 0;
    double secs = 0;
    if (sscanf(spec, "threads:%lu:%lf", &count, &secs) != 2 || !count || count > 64 || secs <= 0) {
        fprintf(stderr, "p11bench: bad %s\n", spec);
        exit(2);
    }
    struct worker w[64] = {{0}};
    double start = now_us();
    deadline = start + secs * 1e6;
    for (unsigned long i = 0; i < count; i++) pthread_create(&w[i].id, NULL, pair_loop, &w[i]);
    unsigned long total = 0;
    for (unsigned long i = 0; i < count; i++) {
        pthread_join(w[i].id, NULL);
        total += w[i].pairs;
    }
    printf("%s %.1f pairs/s\n", spec, total / ((now_us() - start) / 1e6));
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: p11bench MODULE LABEL PIN N OP...\n");
        return 2;
    }
    void *module = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!module) { fprintf(stderr, "p11bench: %s\n", dlerror()); return 2; }
    CK_RV (*get)(CK_FUNCTION_LIST **) = (CK_RV (*)(CK_FUNCTION_LIST **))dlsym(module, "C_GetFunctionList");
    check(get(&fl), "C_GetFunctionList");
    CK_INIT_ARGS init = {0, 0, 0, 0, 2 /* CKF_OS_LOCKING_OK */, 0};
    check(CALL(F_INITIALIZE, fn_init)(&init), "C_Initialize");

    CK_ULONG slots[64], count = 64, slot = (CK_ULONG)-1;
    check(CALL(F_GET_SLOT_LIST, fn_slots)(1, slots, &count), "C_GetSlotList");
    char label[33];
    snprintf(label, sizeof label, "%-32s", argv[2]);
    for (CK_ULONG i = 0; i < count; i++) {
        unsigned char info[512];
        if (!CALL(F_GET_TOKEN_INFO, fn_tinfo)(slots[i], info) && !memcmp(info, label, 32)) {
            slot = slots[i];
            break;
        }
    }
    if (slot == (CK_ULONG)-1) { fprintf(stderr, "p11bench: no token %s\n", argv[2]); return 2; }
    the_slot = slot;
    check(CALL(F_OPEN_SESSION, fn_open)(slot, 6, NULL, NULL, &session), "C_OpenSession");
    CK_RV rv = CALL(F_LOGIN, fn_login)(session, 1, (const unsigned char *)argv[3], strlen(argv[3]));
    if (rv && rv != 0x100 /* CKR_USER_ALREADY_LOGGED_IN */) check(rv, "C_Login");

    int n = atoi(argv[4]);
    in = calloc(1, MIB);
    out = malloc(MIB + 16);
    CK_MECHANISM gen = {0x1080, NULL, 0};
    check(CALL(F_GENERATE_KEY, fn_genkey)(session, &gen, aes_tpl, 9, &aes_key), "C_GenerateKey");
    for (int i = 5; i < argc; i++) {
        const char *op = argv[i];
        if (!strcmp(op, "genkey")) timed(op, genkey, n);
        else if (!strcmp(op, "aescbc")) timed(op, aescbc, n);
        else if (!strcmp(op, "aescbc_dec")) {
            if (!sealed) {  /* a real ciphertext to decrypt */
                sealed = malloc(MIB);
                aescbc();
                memcpy(sealed, out, MIB);
            }
            timed(op, aescbc_dec, n);
        }
        else if (!strcmp(op, "sha256")) timed(op, sha256, n);
        else if (!strcmp(op, "random32")) timed(op, random32, n);
        else if (!strcmp(op, "random1m")) timed(op, random1m, n);
        else if (!strcmp(op, "rsagen1024")) timed(op, rsagen1024, n);
        else if (!strcmp(op, "rsasign")) {
            CK_ULONG pub;
            if (!rsa_priv) keypair(&BITS2048, &pub, &rsa_priv);
            timed(op, rsasign, n);
        } else if (!strcmp(op, "rsasign_token")) {
            CK_ULONG pub, priv, session_key = rsa_priv;
            keypair_on(&BITS2048, &TRUE_, &pub, &priv);
            rsa_priv = priv;
            timed(op, rsasign, n);
            rsa_priv = session_key;
            CALL(F_DESTROY_OBJECT, fn_destroy)(session, pub);
            CALL(F_DESTROY_OBJECT, fn_destroy)(session, priv);
        } else if (!strncmp(op, "bulk:", 5)) bulk(op);
        else if (!strncmp(op, "chain:", 6)) chain(op);
        else if (!strncmp(op, "threads:", 8)) threads(op);
        else if (!strncmp(op, "file:", 5)) file_op(op);
        else { fprintf(stderr, "p11bench: unknown operation %s\n", op); return 2; }
    }
    fflush(stdout);
    return 0;
}
