package schoolgate.ship;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shipped unit is accepted by systemd itself ({@code systemd-analyze verify}, when the
 * command exists; skipped, not passed, where it does not) and runs what the docs say.
 */
class SystemdUnitTest {

  static final Path UNIT = Path.of("systemd/school-gate.service");

  @Test
  void systemdAnalyzeVerifyAcceptsTheUnitWithoutAnyComplaint() throws Exception {
    Path analyze = Path.of("/usr/bin/systemd-analyze");
    Assumptions.assumeTrue(Files.isExecutable(analyze), "systemd-analyze is not installed");
    Process p = new ProcessBuilder(analyze.toString(), "verify", UNIT.toAbsolutePath().toString())
        .redirectErrorStream(true)
        .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "systemd-analyze did not finish");
    // An unknown key is only a warning (exit 0) for systemd: any output at all fails here.
    assertEquals("", out.strip(), "systemd-analyze verify said something");
    assertEquals(0, p.exitValue());
  }

  @Test
  void theUnitRunsTheJarWithTheProductionConfigAsItsOwnUserWithJsonLogs() throws IOException {
    String unit = Files.readString(UNIT);
    assertTrue(unit.contains("\nUser=school-gate\n"), "dedicated user");
    assertTrue(unit.matches("(?s).*\nExecStart=/usr/bin/java [^\n]*-jar /opt/school-gate/school-gate.jar"
        + " --config /etc/school-gate/gateway.json\n.*"), "ExecStart");
    assertTrue(unit.contains("\nSuccessExitStatus=143\n"), "SIGTERM exit is success");
    assertTrue(unit.contains("\nRestart=on-failure\n"), "restart");
    assertTrue(unit.contains("\nEnvironment=SCHOOL_GATE_LOG=json\n"), "JSON logs");
    assertTrue(unit.contains("\nProtectSystem=strict\n") && unit.contains("\nNoNewPrivileges=yes\n"),
        "hardening");
    assertTrue(!unit.contains("\nMemoryDenyWriteExecute=yes"), "the JIT needs W+X memory");
  }
}
