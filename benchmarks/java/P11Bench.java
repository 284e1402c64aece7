// The SunPKCS11 column of benchmarks/bench_vs_c.py: the same operations
// through Java's PKCS#11 bridge on the same module and token, printing one
// line per operation, "name median_us calls" (as p11bench.c does).
//
//   java -cp DIR P11Bench MODULE PIN N OP...   (SOFTHSM2_CONF in the environment)
//   OP: genkey (generate only: SunPKCS11 destroys its keys when they are
//       collected) aescbc aescbc_dec sha256 rsasign random32 random1m;
//       "first" prints the milliseconds from JVM start to the first key.
import java.lang.management.ManagementFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.Security;
import java.security.Signature;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.IvParameterSpec;

public class P11Bench {
    interface Op { void run() throws Exception; }

    static void timed(String name, Op op, int n) throws Exception {
        op.run();  // warm up
        double[] t = new double[n];
        for (int i = 0; i < n; i++) {
            long start = System.nanoTime();
            op.run();
            t[i] = (System.nanoTime() - start) / 1e3;
        }
        Arrays.sort(t);
        System.out.printf("%s %.2f %d%n", name, t[n / 2], n);
    }

    public static void main(String[] args) throws Exception {
        Provider p = Security.getProvider("SunPKCS11")
            .configure("--name=csp11bench\nlibrary=" + args[0] + "\nslotListIndex=0\n");
        Security.addProvider(p);
        KeyStore ks = KeyStore.getInstance("PKCS11", p);
        ks.load(null, args[1].toCharArray());
        int n = Integer.parseInt(args[2]);
        KeyGenerator kg = KeyGenerator.getInstance("AES", p);
        kg.init(256);
        SecretKey key = kg.generateKey();
        byte[] data = new byte[1 << 20];
        IvParameterSpec iv = new IvParameterSpec(new byte[16]);
        Cipher enc = Cipher.getInstance("AES/CBC/NoPadding", p);
        Cipher dec = Cipher.getInstance("AES/CBC/NoPadding", p);
        enc.init(Cipher.ENCRYPT_MODE, key, iv);
        byte[] sealed = enc.doFinal(data);
        MessageDigest md = MessageDigest.getInstance("SHA-256", p);
        SecureRandom random = SecureRandom.getInstance("PKCS11", p);
        byte[] small = new byte[32];
        byte[] big = new byte[1 << 20];
        byte[] info = new byte[51];
        byte[] prefix = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, (byte) 0x86, 0x48, 0x01, 0x65,
                         0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
        System.arraycopy(prefix, 0, info, 0, prefix.length);
        for (int i = 3; i < args.length; i++) {
            switch (args[i]) {
                case "first":
                    long up = ManagementFactory.getRuntimeMXBean().getStartTime();
                    System.out.printf("first %d%n", System.currentTimeMillis() - up);
                    break;
                case "genkey": timed("genkey", kg::generateKey, n); break;
                case "aescbc":
                    timed("aescbc", () -> { enc.init(Cipher.ENCRYPT_MODE, key, iv); enc.doFinal(data); }, n);
                    break;
                case "aescbc_dec":
                    timed("aescbc_dec", () -> { dec.init(Cipher.DECRYPT_MODE, key, iv); dec.doFinal(sealed); }, n);
                    break;
                case "sha256": timed("sha256", () -> md.digest(data), n); break;
                case "rsasign": {
                    KeyPairGenerator kpg = KeyPairGenerator.getInstance("RSA", p);
                    kpg.initialize(2048);
                    KeyPair pair = kpg.generateKeyPair();
                    Signature s = Signature.getInstance("NONEwithRSA", p);
                    timed("rsasign", () -> { s.initSign(pair.getPrivate()); s.update(info); s.sign(); }, n);
                    break;
                }
                case "random32": timed("random32", () -> random.nextBytes(small), n); break;
                case "random1m": timed("random1m", () -> random.nextBytes(big), n); break;
                default: throw new IllegalArgumentException(args[i]);
            }
        }
    }
}
