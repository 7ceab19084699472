package schoolgate.fuzz;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Generates hostile inputs from valid seeds: byte flips, truncations, splices, type swaps,
 * huge numbers, deep nesting, odd Unicode and plain random bytes. Deterministic per seed so
 * a failure can be replayed.
 */
public final class Mutator {

  /** How many inputs a fuzz test makes: short inside `mvn verify`, long with -Dfuzz.count=N. */
  public static int count(int shortRun) {
    return Integer.getInteger("fuzz.count", shortRun);
  }

  private static final String[] TOKENS = {
    "null", "true", "false", "0", "-1", "1e309", "-0", "9223372036854775808", "1.5", "\"\"",
    "[]", "{}", "\"04A1B2C3D4E5F6\"", "\"zz\"", "\"\\u0000\"", "\"Иванова\"", "NaN", "\"\\ud800\"",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    "{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{}}}}}}}", "\"card\"", "\"seq\"", ",", ":", "\"", "}", "{"
  };

  private final SplittableRandom random;
  private final List<String> seeds;

  public Mutator(long seed, List<String> seeds) {
    this.random = new SplittableRandom(seed);
    this.seeds = seeds;
  }

  public byte[] next() {
    int kind = random.nextInt(10);
    if (kind == 0) {
      byte[] b = new byte[random.nextInt(64)];
      random.nextBytes(b);
      return b;
    }
    String s = seeds.get(random.nextInt(seeds.size()));
    int rounds = 1 + random.nextInt(4);
    for (int i = 0; i < rounds; i++) {
      s = mutate(s);
    }
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private String mutate(String s) {
    if (s.isEmpty()) {
      return TOKENS[random.nextInt(TOKENS.length)];
    }
    int at = random.nextInt(s.length() + 1);
    switch (random.nextInt(8)) {
      case 0:
        return s.substring(0, at);
      case 1:
        return s.substring(0, at) + TOKENS[random.nextInt(TOKENS.length)] + s.substring(at);
      case 2: {
        int end = Math.min(s.length(), at + 1 + random.nextInt(8));
        return s.substring(0, at) + TOKENS[random.nextInt(TOKENS.length)] + s.substring(end);
      }
      case 3: {
        char[] c = s.toCharArray();
        int i = random.nextInt(c.length);
        c[i] = (char) (c[i] ^ (1 << random.nextInt(7)));
        return new String(c);
      }
      case 4: {
        String other = seeds.get(random.nextInt(seeds.size()));
        int from = random.nextInt(other.length() + 1);
        return s.substring(0, at) + other.substring(from);
      }
      case 5:
        return s.replaceFirst("\"[a-z]+\"", TOKENS[random.nextInt(TOKENS.length)]);
      case 6:
        return s.replaceFirst(":\\s*[^,}]+", ":" + TOKENS[random.nextInt(TOKENS.length)]);
      default:
        return s.substring(0, at) + (char) random.nextInt(0x10000) + s.substring(at);
    }
  }
}
