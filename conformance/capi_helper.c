/* capi_helper: CryptoAPI calls on request, for the conformance harness.
 *
 * Built at run time with x86_64-w64-mingw32-gcc and run under wine64 by
 * conformance/harness.py (never committed as a binary).  One request per
 * line on stdin, one answer per line on stdout:
 *
 *   request:  VERB ARG...      (space-separated)
 *   answer:   OK [VALUE...]    or    ERR <GetLastError() in hex>
 *
 * Integers are decimal or 0x-hex; handles are the raw HCRYPT* values printed
 * as decimal (0 = none); byte strings are hex, "-" for a NULL pointer and
 * "." for zero bytes.  Handles live until released, so sequences of calls
 * (chunked encryption, hash then sign) work across requests.
 */
#include <windows.h>
#include <wincrypt.h>
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_BYTES (8u << 20)
#define MAX_ARGS 8

static char line[LINE_MAX_BYTES];

typedef struct {
    BYTE *data;   /* NULL for "-" */
    DWORD len;
} bytes_t;

static ULONG_PTR num(const char *s) { return (ULONG_PTR)_strtoui64(s, NULL, 0); }

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes hex in place (the output never outruns the input). */
static bytes_t unhex(char *s) {
    bytes_t b = {NULL, 0};
    if (strcmp(s, "-") == 0) return b;
    b.data = (BYTE *)s;
    if (strcmp(s, ".") == 0) return b;
    for (size_t i = 0; s[2 * i] && s[2 * i + 1]; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) break;
        b.data[i] = (BYTE)(hi * 16 + lo);
        b.len++;
    }
    return b;
}

static void ok_hex(const BYTE *p, DWORD n) {
    fputs("OK ", stdout);
    if (n == 0) fputc('.', stdout);
    for (DWORD i = 0; i < n; i++) printf("%02x", p[i]);
    fputc('\n', stdout);
}

static void ok_num(ULONG_PTR v) { printf("OK %llu\n", (unsigned long long)v); }
static void ok(void) { puts("OK"); }
static void err(void) { printf("ERR %08lx\n", (unsigned long)GetLastError()); }
static void bad_request(void) { puts("ERR ffffffff"); }

/* A buffer for data operations: the input plus room for padding or an RSA
 * modulus (no size query: Wine's size query resets the CBC chain). */
static BYTE *room(const bytes_t *in, DWORD extra, DWORD *cap) {
    *cap = in->len + extra;
    BYTE *buf = (BYTE *)malloc(*cap ? *cap : 1);
    if (in->len) memcpy(buf, in->data, in->len);
    return buf;
}

static void handle(char **a, int n) {
    const char *v = a[0];
#define NEED(k) do { if (n != (k) + 1) { bad_request(); return; } } while (0)
    if (strcmp(v, "acquire") == 0) {            /* provtype flags container provider */
        NEED(4);
        bytes_t cont = unhex(a[3]), prov = unhex(a[4]);
        char cbuf[1024] = {0}, pbuf[1024] = {0};
        if (cont.data) memcpy(cbuf, cont.data, cont.len < 1023 ? cont.len : 1023);
        if (prov.data) memcpy(pbuf, prov.data, prov.len < 1023 ? prov.len : 1023);
        HCRYPTPROV h = 0;
        if (CryptAcquireContextA(&h, cont.data ? cbuf : NULL, prov.data ? pbuf : NULL,
                                 (DWORD)num(a[1]), (DWORD)num(a[2])))
            ok_num(h);
        else
            err();
    } else if (strcmp(v, "release") == 0) {     /* prov flags */
        NEED(2);
        if (CryptReleaseContext(num(a[1]), (DWORD)num(a[2]))) ok(); else err();
    } else if (strcmp(v, "genkey") == 0) {      /* prov algid flags */
        NEED(3);
        HCRYPTKEY k;
        if (CryptGenKey(num(a[1]), (ALG_ID)num(a[2]), (DWORD)num(a[3]), &k)) ok_num(k); else err();
    } else if (strcmp(v, "getuserkey") == 0) {  /* prov spec */
        NEED(2);
        HCRYPTKEY k;
        if (CryptGetUserKey(num(a[1]), (DWORD)num(a[2]), &k)) ok_num(k); else err();
    } else if (strcmp(v, "importkey") == 0) {   /* prov blob pubkey flags */
        NEED(4);
        bytes_t blob = unhex(a[2]);
        HCRYPTKEY k;
        if (CryptImportKey(num(a[1]), blob.data, blob.len, num(a[3]), (DWORD)num(a[4]), &k))
            ok_num(k);
        else
            err();
    } else if (strcmp(v, "exportkey") == 0) {   /* key expkey blobtype flags */
        NEED(4);
        DWORD len = 0;
        if (!CryptExportKey(num(a[1]), num(a[2]), (DWORD)num(a[3]), (DWORD)num(a[4]), NULL, &len)) {
            err();
            return;
        }
        BYTE *buf = (BYTE *)malloc(len ? len : 1);
        if (CryptExportKey(num(a[1]), num(a[2]), (DWORD)num(a[3]), (DWORD)num(a[4]), buf, &len))
            ok_hex(buf, len);
        else
            err();
        free(buf);
    } else if (strcmp(v, "encrypt") == 0 || strcmp(v, "decrypt") == 0) {
        NEED(5);                                 /* key hash final flags data */
        bytes_t in = unhex(a[5]);
        DWORD cap, len = in.len;
        BYTE *buf = room(&in, 4096, &cap);
        BOOL r = v[0] == 'e'
            ? CryptEncrypt(num(a[1]), num(a[2]), (BOOL)num(a[3]), (DWORD)num(a[4]), buf, &len, cap)
            : CryptDecrypt(num(a[1]), num(a[2]), (BOOL)num(a[3]), (DWORD)num(a[4]), buf, &len);
        if (r) ok_hex(buf, len); else err();
        free(buf);
    } else if (strcmp(v, "createhash") == 0) {  /* prov algid key flags */
        NEED(4);
        HCRYPTHASH h;
        if (CryptCreateHash(num(a[1]), (ALG_ID)num(a[2]), num(a[3]), (DWORD)num(a[4]), &h))
            ok_num(h);
        else
            err();
    } else if (strcmp(v, "hashdata") == 0) {    /* hash data flags */
        NEED(3);
        bytes_t d = unhex(a[2]);
        if (CryptHashData(num(a[1]), d.data, d.len, (DWORD)num(a[3]))) ok(); else err();
    } else if (strcmp(v, "hashkey") == 0) {     /* hash key flags */
        NEED(3);
        if (CryptHashSessionKey(num(a[1]), num(a[2]), (DWORD)num(a[3]))) ok(); else err();
    } else if (strcmp(v, "gethash") == 0 || strcmp(v, "getkey") == 0) { /* h param flags */
        NEED(3);
        BOOL is_hash = v[3] == 'h';
        DWORD len = 0;
        BOOL r = is_hash ? CryptGetHashParam(num(a[1]), (DWORD)num(a[2]), NULL, &len, (DWORD)num(a[3]))
                         : CryptGetKeyParam(num(a[1]), (DWORD)num(a[2]), NULL, &len, (DWORD)num(a[3]));
        if (!r) { err(); return; }
        BYTE *buf = (BYTE *)malloc(len ? len : 1);
        r = is_hash ? CryptGetHashParam(num(a[1]), (DWORD)num(a[2]), buf, &len, (DWORD)num(a[3]))
                    : CryptGetKeyParam(num(a[1]), (DWORD)num(a[2]), buf, &len, (DWORD)num(a[3]));
        if (r) ok_hex(buf, len); else err();
        free(buf);
    } else if (strcmp(v, "sethash") == 0 || strcmp(v, "setkey") == 0) { /* h param data flags */
        NEED(4);
        DWORD param = (DWORD)num(a[2]);
        bytes_t d = unhex(a[3]);
        HMAC_INFO info;
        CRYPT_DATA_BLOB blob;
        BYTE *p = d.data;
        if (v[3] == 'h' && param == HP_HMAC_INFO && d.data) {
            DWORD alg = 0;
            memcpy(&alg, d.data, d.len < 4 ? d.len : 4);
            memset(&info, 0, sizeof info);
            info.HashAlgid = alg;
            p = (BYTE *)&info;
        } else if (v[3] == 'k' && param == KP_SALT_EX && d.data) {
            blob.cbData = d.len;
            blob.pbData = d.data;
            p = (BYTE *)&blob;
        }
        BOOL r = v[3] == 'h' ? CryptSetHashParam(num(a[1]), param, p, (DWORD)num(a[4]))
                             : CryptSetKeyParam(num(a[1]), param, p, (DWORD)num(a[4]));
        if (r) ok(); else err();
    } else if (strcmp(v, "sign") == 0) {        /* hash spec flags */
        NEED(3);
        DWORD len = 0;
        if (!CryptSignHashA(num(a[1]), (DWORD)num(a[2]), NULL, (DWORD)num(a[3]), NULL, &len)) {
            err();
            return;
        }
        BYTE *buf = (BYTE *)malloc(len ? len : 1);
        if (CryptSignHashA(num(a[1]), (DWORD)num(a[2]), NULL, (DWORD)num(a[3]), buf, &len))
            ok_hex(buf, len);
        else
            err();
        free(buf);
    } else if (strcmp(v, "verify") == 0) {      /* hash sig pubkey flags */
        NEED(4);
        bytes_t s = unhex(a[2]);
        if (CryptVerifySignatureA(num(a[1]), s.data, s.len, num(a[3]), NULL, (DWORD)num(a[4])))
            ok();
        else
            err();
    } else if (strcmp(v, "derive") == 0) {      /* prov algid hash flags */
        NEED(4);
        HCRYPTKEY k;
        if (CryptDeriveKey(num(a[1]), (ALG_ID)num(a[2]), num(a[3]), (DWORD)num(a[4]), &k))
            ok_num(k);
        else
            err();
    } else if (strcmp(v, "destroykey") == 0) {
        NEED(1);
        if (CryptDestroyKey(num(a[1]))) ok(); else err();
    } else if (strcmp(v, "destroyhash") == 0) {
        NEED(1);
        if (CryptDestroyHash(num(a[1]))) ok(); else err();
    } else if (strcmp(v, "dupkey") == 0) {
        NEED(1);
        HCRYPTKEY k;
        if (CryptDuplicateKey(num(a[1]), NULL, 0, &k)) ok_num(k); else err();
    } else if (strcmp(v, "duphash") == 0) {
        NEED(1);
        HCRYPTHASH h;
        if (CryptDuplicateHash(num(a[1]), NULL, 0, &h)) ok_num(h); else err();
    } else if (strcmp(v, "ping") == 0) {
        ok();
    } else {
        bad_request();
    }
#undef NEED
}

int main(void) {
    _setmode(_fileno(stdin), _O_BINARY);
    _setmode(_fileno(stdout), _O_BINARY);
    while (fgets(line, sizeof line, stdin)) {
        char *args[MAX_ARGS + 2];
        int n = 0;
        for (char *t = strtok(line, " \r\n"); t && n < MAX_ARGS + 1; t = strtok(NULL, " \r\n"))
            args[n++] = t;
        if (n == 0) continue;
        SetLastError(0);
        handle(args, n);
        fflush(stdout);
    }
    return 0;
}
