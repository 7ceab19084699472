package schoolgate.monitor;

import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import schoolgate.Gateway;
import schoolgate.support.GatewayFixture;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static schoolgate.monitor.MonitorTestSupport.GUARD;
import static schoolgate.monitor.MonitorTestSupport.PASSWORD;

/** Password guessing against the guard login of a real gateway. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LoginThrottlingIT {

  private Vertx vertx;
  private Gateway gateway;

  @BeforeAll
  void start(@TempDir Path dir) {
    vertx = Vertx.vertx();
    gateway = GatewayFixture.start(vertx, MonitorTestSupport.config(dir));
  }

  @AfterAll
  void stop() {
    GatewayFixture.await(gateway.stop().eventually(vertx::close));
  }

  @Test
  void aHundredWrongPasswordsAreThrottledAndTheRightOneWaitsToo() throws Exception {
    MonitorTestSupport.Http http = new MonitorTestSupport.Http(gateway.httpPort());
    List<Integer> statuses = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      HttpResponse<String> r = http.login(GUARD, "guess-" + i);
      statuses.add(r.statusCode());
      if (r.statusCode() == 429) {
        assertTrue(r.headers().firstValue("Retry-After").isPresent(), "429 says when to come back");
      }
    }
    assertEquals(List.of(401, 401, 401, 401, 401), statuses.subList(0, 5), "five honest mistakes are checked");
    long throttled = statuses.stream().filter(s -> s == 429).count();
    assertTrue(throttled >= 90, "only " + throttled + " of 100 throttled: " + statuses);
    assertTrue(statuses.stream().allMatch(s -> s == 401 || s == 429), statuses.toString());

    // Locked means locked: the right password does not get in now either.
    assertEquals(429, http.login(GUARD, PASSWORD).statusCode());

    // A parallel burst against another login from the same address: still no flood of checks.
    ExecutorService pool = Executors.newFixedThreadPool(16);
    try {
      List<Future<Integer>> burst = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        int n = i;
        burst.add(pool.submit(() -> new MonitorTestSupport.Http(gateway.httpPort()).login("mallory", "x" + n).statusCode()));
      }
      for (Future<Integer> f : burst) {
        int s = f.get();
        assertTrue(s == 401 || s == 429, "burst answered " + s);
      }
    } finally {
      pool.shutdownNow();
    }
    double checked = metric(new MonitorTestSupport.Http(gateway.httpPort()).get("/metrics").body(),
        "gate_guard_logins_total{result=\"wrong\"}");
    // 5 per login before its lock, at most 10 per address; a few more only if a lock ran out meanwhile.
    assertTrue(checked <= 14, checked + " passwords were checked out of 201 attempts");
    assertEquals(0.0, metric(new MonitorTestSupport.Http(gateway.httpPort()).get("/metrics").body(),
        "gate_guard_logins_total{result=\"ok\"}"));
  }

  private static double metric(String text, String name) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + " (\\S+)$").matcher(text);
    assertTrue(m.find(), name + " missing");
    return Double.parseDouble(m.group(1));
  }
}
