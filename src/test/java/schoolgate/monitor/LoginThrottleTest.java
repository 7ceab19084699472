package schoolgate.monitor;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LoginThrottleTest {

  private final LoginThrottle throttle = new LoginThrottle(5, 10, 2_000, 60_000, 900_000);

  @Test
  void fifthWrongPasswordLocksTheLoginAndLockoutsDoubleUpToTheCap() {
    long now = 1_000_000;
    for (int i = 0; i < 4; i++) {
      assertTrue(throttle.begin("anna", "10.0.0." + i, now).allowed());
    }
    assertTrue(throttle.begin("anna", "10.0.0.9", now).allowed(), "the fifth attempt is still checked");
    LoginThrottle.Attempt locked = throttle.begin("anna", "10.0.0.9", now);
    assertFalse(locked.allowed());
    assertEquals(2_000, locked.retryAfterMs());

    long[] expected = {4_000, 8_000, 16_000, 32_000, 60_000, 60_000};
    for (long lock : expected) {
      now += throttle.lockedFor("anna", now);
      assertTrue(throttle.begin("anna", "10.0.1." + lock, now).allowed());
      assertEquals(lock, throttle.lockedFor("anna", now));
    }
  }

  @Test
  void aLockedLoginIsRefusedEvenWithTheRightPasswordAndOtherLoginsAreNotAffected() {
    long now = 0;
    for (int i = 0; i < 5; i++) {
      throttle.begin("anna", "10.0.0." + i, now);
    }
    assertFalse(throttle.begin("anna", "10.9.9.9", now + 1).allowed());
    assertTrue(throttle.begin("boris", "10.9.9.9", now + 1).allowed());
  }

  @Test
  void oneAddressGuessingManyLoginsIsLockedAfterTen() {
    long now = 0;
    for (int i = 0; i < 10; i++) {
      assertTrue(throttle.begin("login" + i, "10.0.0.1", now).allowed());
    }
    assertFalse(throttle.begin("login99", "10.0.0.1", now).allowed());
    assertTrue(throttle.begin("login99", "10.0.0.2", now).allowed());
  }

  @Test
  void attemptsInFlightCountBeforeTheirPasswordIsChecked() {
    // A burst of parallel guesses: none has finished, yet only five get through to bcrypt.
    int allowed = 0;
    for (int i = 0; i < 100; i++) {
      if (throttle.begin("anna", "10.0.0.1", 0).allowed()) {
        allowed++;
      }
    }
    assertEquals(5, allowed);
  }

  @Test
  void aRightPasswordClearsTheLoginsFailures() {
    for (int i = 0; i < 4; i++) {
      throttle.begin("anna", "10.0.0.1", 0);
    }
    throttle.succeeded(throttle.begin("anna", "10.0.0.1", 0));
    for (int i = 0; i < 4; i++) {
      assertTrue(throttle.begin("anna", "10.0.0.1", 0).allowed());
    }
  }

  @Test
  void failuresAreForgottenAfterAQuietWhile() {
    for (int i = 0; i < 4; i++) {
      throttle.begin("anna", "10.0.0.1", 0);
    }
    assertTrue(throttle.begin("anna", "10.0.0.1", 900_000).allowed());
    for (int i = 0; i < 3; i++) {
      assertTrue(throttle.begin("anna", "10.0.0.1", 900_000).allowed(),
          "counting started again after 15 quiet minutes");
    }
  }

  @Test
  void aSprayOfMadeUpLoginsKeepsTheTableBounded() {
    for (int i = 0; i < 50_000; i++) {
      throttle.begin("nobody" + i, "10.0." + (i / 250) + "." + (i % 250), i);
    }
    assertTrue(throttle.size() <= 10_001, "entries: " + throttle.size());
  }
}
