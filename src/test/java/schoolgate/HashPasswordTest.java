package schoolgate;

import at.favre.lib.crypto.bcrypt.BCrypt;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code hash-password} from a pipe, as the README shows it (no terminal: no prompt, one line). */
class HashPasswordTest {

  private record Run(int exit, String out, String err) {
  }

  private static Run hash(String stdin) {
    InputStream in = System.in;
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    try {
      System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
      System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
      int exit = Main.run(new String[] {"hash-password"});
      return new Run(exit, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    } finally {
      System.setIn(in);
      System.setOut(out);
      System.setErr(err);
    }
  }

  @Test
  void aCyrillicPasswordIsHashedAsTheBrowserSendsIt() {
    Run run = hash("Пароль-для-охраны\n");
    assertEquals(0, run.exit(), run.err());
    String hash = run.out().strip();
    assertTrue(hash.startsWith("$2a$12$"), hash);
    // The browser posts the password as UTF-8; the hash must be of those characters.
    assertTrue(BCrypt.verifyer().verify("Пароль-для-охраны".toCharArray(), hash).verified, hash);
    assertEquals("", run.err(), "no prompt when the password comes from a pipe");
  }

  @Test
  void noPasswordIsAUsageErrorAndPrintsNoHash() {
    Run run = hash("");
    assertEquals(2, run.exit());
    assertEquals("", run.out());
    assertTrue(run.err().contains("no password"), run.err());
  }
}
