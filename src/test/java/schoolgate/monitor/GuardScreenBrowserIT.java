package schoolgate.monitor;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;
import schoolgate.Gateway;
import schoolgate.support.GatewayFixture;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static schoolgate.monitor.MonitorTestSupport.ALYONA;
import static schoolgate.monitor.MonitorTestSupport.ALYONA_NAME;
import static schoolgate.monitor.MonitorTestSupport.GUARD;
import static schoolgate.monitor.MonitorTestSupport.MARIA;
import static schoolgate.monitor.MonitorTestSupport.MARIA_CARD;
import static schoolgate.monitor.MonitorTestSupport.MARIA_NAME;
import static schoolgate.monitor.MonitorTestSupport.PASSWORD;
import static schoolgate.monitor.MonitorTestSupport.PETR;
import static schoolgate.monitor.MonitorTestSupport.PETR_NEW_CARD;
import static schoolgate.monitor.MonitorTestSupport.PETR_OLD_CARD;
import static schoolgate.monitor.MonitorTestSupport.PHOTO_WIDTH;

/**
 * The guard's screen in Debian's Chromium (headless, through Debian's chromedriver): a
 * guard logs in and watches taps that a real MQTT client makes at reader r1, sees the
 * replaced-card warning, opens a turnstile by hand and lets a child in by name; the passes
 * are checked in the database and the commands at the reader. Skipped where Chromium is
 * not installed. Screenshots go to target/test-artifacts/.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GuardScreenBrowserIT {

  /** Debian's paths; overridable (-Dschoolgate.chromium=...) e.g. to see the skip work. */
  private static final Path CHROMIUM = Path.of(System.getProperty("schoolgate.chromium", "/usr/bin/chromium"));
  private static final Path CHROMEDRIVER = Path.of(System.getProperty("schoolgate.chromedriver", "/usr/bin/chromedriver"));
  private static final Path ARTIFACTS = Path.of("target", "test-artifacts");
  /** The contract: a tap is on the screen, photo and all, within a second. */
  private static final Duration ON_SCREEN = Duration.ofSeconds(1);

  private Path dir;
  private JsonObject config;
  private Vertx vertx;
  private Gateway gateway;
  private ChromeDriverService service;
  private ChromeDriver browser;
  private MqttClient reader;
  private final BlockingQueue<JsonObject> commands = new LinkedBlockingQueue<>();
  private final BlockingQueue<JsonObject> decisions = new LinkedBlockingQueue<>();
  private String base;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    if (!browserInstalled()) {
      return; // every test is then reported as skipped, see requireBrowser()
    }
    this.dir = dir;
    Files.createDirectories(ARTIFACTS);
    vertx = Vertx.vertx();
    config = MonitorTestSupport.config(dir);
    // Fixed free ports: the gateway is restarted on the same ones in one test.
    config.getJsonObject("http").put("port", GatewayFixture.freePort());
    config.getJsonObject("readers").put("port", GatewayFixture.freePort());
    gateway = GatewayFixture.start(vertx, config);
    MonitorTestSupport.loadSchool(gateway);
    base = "http://127.0.0.1:" + gateway.httpPort();

    reader = new MqttClient("tcp://127.0.0.1:" + gateway.readerPort(), "r1", new MemoryPersistence());
    MqttConnectOptions options = new MqttConnectOptions();
    options.setCleanSession(true);
    options.setAutomaticReconnect(true);
    reader.setCallback(new org.eclipse.paho.client.mqttv3.MqttCallbackExtended() {
      @Override
      public void connectComplete(boolean reconnect, String serverURI) {
        if (reconnect) {
          subscribe();
        }
      }

      @Override
      public void connectionLost(Throwable cause) {
      }

      @Override
      public void messageArrived(String topic, org.eclipse.paho.client.mqttv3.MqttMessage message) {
        JsonObject body = new JsonObject(new String(message.getPayload(), StandardCharsets.UTF_8));
        (topic.endsWith("/command") ? commands : decisions).add(body);
      }

      @Override
      public void deliveryComplete(IMqttDeliveryToken token) {
      }
    });
    reader.connect(options);
    subscribe();

    ChromeOptions chrome = new ChromeOptions();
    chrome.setBinary(CHROMIUM.toFile());
    chrome.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--window-size=1400,1000", "--lang=ru-RU",
        "--user-data-dir=" + Files.createTempDirectory(dir, "chromium-profile"));
    service = new ChromeDriverService.Builder()
        .usingDriverExecutable(CHROMEDRIVER.toFile())
        .usingAnyFreePort()
        .build();
    browser = new ChromeDriver(service, chrome);
  }

  private static boolean browserInstalled() {
    return Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
  }

  /** Without Chromium each test is skipped, one by one, so the report says so. */
  @BeforeEach
  void requireBrowser() {
    Assumptions.assumeTrue(browserInstalled(),
        "Chromium or chromedriver not installed (" + CHROMIUM + ", " + CHROMEDRIVER + "): apt-get install chromium chromium-driver");
  }

  private void subscribe() {
    try {
      reader.subscribe(new String[] {"readers/r1/command", "readers/r1/decision"}, new int[] {1, 1});
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @AfterAll
  void stop() throws Exception {
    if (browser != null) {
      browser.quit();
    }
    if (service != null) {
      service.stop();
    }
    if (reader != null) {
      if (reader.isConnected()) {
        reader.disconnect();
      }
      reader.close();
    }
    if (gateway != null) {
      GatewayFixture.await(gateway.stop());
    }
    if (vertx != null) {
      GatewayFixture.await(vertx.close());
    }
  }

  @Test
  @Order(1)
  void aGuardLogsInAndTheScreenGoesLive() {
    browser.get(base + "/");
    waitFor(Duration.ofSeconds(10)).until(ExpectedConditions.urlToBe(base + "/login"));
    browser.findElement(By.id("login")).sendKeys(GUARD);
    browser.findElement(By.id("password")).sendKeys("not-the-password");
    browser.findElement(By.id("submit")).click();
    waitFor(Duration.ofSeconds(10)).until(ExpectedConditions.textToBe(By.id("login-error"), "Неверный логин или пароль"));
    screenshot("01-login-wrong-password");

    browser.findElement(By.id("password")).clear();
    browser.findElement(By.id("password")).sendKeys(PASSWORD);
    browser.findElement(By.id("submit")).click();
    waitFor(Duration.ofSeconds(10)).until(ExpectedConditions.urlToBe(base + "/"));
    waitUntilLive();
    assertEquals(GUARD, browser.findElement(By.id("guard")).getText());
    assertEquals("ru", browser.findElement(By.tagName("html")).getDomAttribute("lang"));
    // Reader r1 (our MQTT client) is shown online, r2 (nobody) offline.
    waitFor(Duration.ofSeconds(5)).until(ExpectedConditions.presenceOfElementLocated(
        By.cssSelector(".reader.online[data-reader='r1']")));
    assertFalse(browser.findElements(By.cssSelector(".reader.offline[data-reader='r2']")).isEmpty());
  }

  @Test
  @Order(2)
  void aTapAtTheReaderAppearsWithNameClassAndPhotoWithinASecond() throws Exception {
    var acked = tap(MARIA_CARD, 1);
    // Explicit wait of at most a second from the tap for the name and the loaded photo.
    String pass = "#last .pass[data-holder='" + MARIA + "']";
    waitFor(ON_SCREEN).until(d -> photoLoaded(pass + " img.photo")
        && MARIA_NAME.equals(text(pass + " .name")));
    acked.waitForCompletion(10_000);
    assertEquals("ПРОХОД РАЗРЕШЁН", text(pass + " .verdict"));
    assertEquals("5А", text(pass + " .class"));
    assertTrue(text(pass + " .place").contains("main"));
    assertTrue(text(pass + " .place").contains("вход"));
    assertTrue(browser.findElement(By.cssSelector(pass + " img.photo")).getDomAttribute("src").endsWith("/photo/" + MARIA));
    assertEquals(MARIA_NAME, text("#feed > li:first-child .name"));
    JsonObject decision = decisions.poll(10, TimeUnit.SECONDS);
    assertNotNull(decision);
    assertTrue(decision.getBoolean("open"));
    screenshot("02-admitted-with-photo");
  }

  @Test
  @Order(3)
  void aReplacedCardSaysKeepItWithTheDateAndShowsNoPhoto() throws Exception {
    var acked = tap(PETR_OLD_CARD, 2);
    String pass = "#last .pass.reason-superseded[data-holder='" + PETR + "']";
    waitFor(ON_SCREEN).until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector(pass)));
    acked.waitForCompletion(10_000);
    assertEquals("ПРОХОД ЗАПРЕЩЁН", text(pass + " .verdict"));
    assertEquals("КАРТА ЗАМЕНЕНА — ИЗЫМИТЕ ЕЁ", text(pass + " .superseded-warning"));
    String today = LocalDate.now().format(DateTimeFormatter.ofPattern("dd.MM.yyyy"));
    assertEquals("заменена " + today, text(pass + " .replaced"));
    assertTrue(browser.findElements(By.cssSelector(pass + " img")).isEmpty(), "no photo for a replaced card");
    assertTrue(browser.findElements(By.cssSelector(pass + " .name")).isEmpty(), "not shown like an admitted pass");
    assertTrue(browser.findElement(By.id("last")).getDomAttribute("class").contains("deny"));
    assertEquals(org.openqa.selenium.support.Color.fromString("#b91c1c"),
        org.openqa.selenium.support.Color.fromString(browser.findElement(By.id("last")).getCssValue("background-color")),
        "a deny fills the last-pass panel in red");
    JsonObject decision = decisions.poll(10, TimeUnit.SECONDS);
    assertNotNull(decision);
    assertFalse(decision.getBoolean("open"));
    assertEquals("superseded", decision.getString("reason"));
    screenshot("03-superseded-card");
  }

  @Test
  @Order(4)
  void theGuardOpensATurnstileByHandWithAReason() throws Exception {
    commands.clear();
    new Select(browser.findElement(By.id("open-reader"))).selectByValue("r1");
    browser.findElement(By.id("open-submit")).click();
    waitFor(Duration.ofSeconds(5)).until(ExpectedConditions.textToBe(By.id("open-result"), "Укажите причину"));
    assertTrue(MonitorTestSupport.guardPasses(gateway).isEmpty(), "no reason, no open");

    browser.findElement(By.id("open-reason")).sendKeys("скорая помощь");
    browser.findElement(By.id("open-submit")).click();
    waitFor(Duration.ofSeconds(5)).until(ExpectedConditions.attributeContains(By.id("open-result"), "class", "done"));
    JsonObject command = commands.poll(10, TimeUnit.SECONDS);
    assertNotNull(command, "the reader got the open command");
    assertEquals("open", command.getString("cmd"));
    assertEquals(GUARD, command.getString("by"));
    String pass = "#last .pass.src-guard";
    waitFor(Duration.ofSeconds(5)).until(ExpectedConditions.textToBePresentInElementLocated(
        By.cssSelector(pass + " .guard"), "скорая помощь"));
    assertEquals("ОТКРЫТО ВРУЧНУЮ", text(pass + " .verdict"));
    screenshot("04-opened-by-hand");
  }

  @Test
  @Order(5)
  void theGuardFindsAChildByNameAndLetsThemIn() throws Exception {
    commands.clear();
    new Select(browser.findElement(By.id("admit-reader"))).selectByValue("r1");
    browser.findElement(By.id("roster-q")).sendKeys("смирн");
    By admit = By.cssSelector("#roster li[data-holder='" + ALYONA + "'] button.admit");
    waitFor(Duration.ofSeconds(5)).until(ExpectedConditions.elementToBeClickable(admit));
    assertEquals(ALYONA_NAME, text("#roster li[data-holder='" + ALYONA + "'] .name"));
    screenshot("05-roster-search");
    browser.findElement(admit).click();
    waitFor(Duration.ofSeconds(5)).until(ExpectedConditions.attributeContains(By.id("admit-result"), "class", "done"));
    String pass = "#last .pass.src-guard[data-holder='" + ALYONA + "']";
    waitFor(Duration.ofSeconds(5)).until(d -> ALYONA_NAME.equals(text(pass + " .name")) && photoLoaded(pass + " img.photo"));
    assertNotNull(commands.poll(10, TimeUnit.SECONDS), "the turnstile was opened for the child");
    screenshot("06-admitted-by-name");

    // Both actions are passes in the database, as the centre will get them.
    List<Row> passes = MonitorTestSupport.guardPasses(gateway);
    assertEquals(2, passes.size());
    Row open = passes.get(0);
    assertEquals("r1", open.getString("reader"));
    assertEquals("main", open.getString("gate"));
    assertEquals("in", open.getString("direction"));
    assertNull(open.getString("holder_id"));
    assertNull(open.getString("card"));
    assertTrue(open.getBoolean("open"));
    assertEquals(GUARD, open.getString("guard"));
    assertEquals("скорая помощь", open.getString("note"));
    Row admitted = passes.get(1);
    assertEquals(ALYONA, admitted.getString("holder_id"));
    assertEquals("r1", admitted.getString("reader"));
    assertTrue(admitted.getBoolean("open"));
    assertEquals("ok", admitted.getString("reason"));
    assertEquals(GUARD, admitted.getString("guard"));
    assertEquals("забыл карту", admitted.getString("note"));
    // And the two taps before them.
    Row taps = GatewayFixture.await(gateway.database().pool().query(
        "SELECT count(*) FILTER (WHERE reason = 'ok' AND holder_id = '" + MARIA + "'),"
            + " count(*) FILTER (WHERE reason = 'superseded' AND NOT open) FROM passes WHERE source = 'tap'")
        .execute()).iterator().next();
    assertEquals(1L, taps.getLong(0));
    assertEquals(1L, taps.getLong(1));
  }

  @Test
  @Order(6)
  void englishIsOneClickAwayAndRemembered() {
    browser.findElement(By.id("lang")).click();
    waitFor(Duration.ofSeconds(5)).until(ExpectedConditions.textToBePresentInElementLocated(
        By.cssSelector("#feed .reason-superseded .superseded-warning"), "CARD REPLACED — KEEP IT"));
    browser.navigate().refresh();
    waitUntilLive();
    waitFor(Duration.ofSeconds(5)).until(ExpectedConditions.textToBePresentInElementLocated(
        By.cssSelector("#feed .reason-superseded .superseded-warning"), "CARD REPLACED — KEEP IT"));
    assertEquals("en", browser.findElement(By.tagName("html")).getDomAttribute("lang"));
    assertEquals("Guard post", text("h1"));
    screenshot("07-english");
    browser.findElement(By.id("lang")).click();
    waitFor(Duration.ofSeconds(5)).until(ExpectedConditions.textToBe(By.cssSelector("h1"), "Пост охраны"));
  }

  @Test
  @Order(7)
  void theScreenSaysWhenItIsNotLiveAndReconnectsByItself() throws Exception {
    GatewayFixture.await(gateway.stop());
    waitFor(Duration.ofSeconds(15)).until(d -> bodyClass().contains("not-live"));
    assertTrue(browser.findElement(By.id("not-live-banner")).isDisplayed());
    assertEquals("НЕТ СВЯЗИ — экран не обновляется", browser.findElement(By.id("not-live-banner")).getText());
    screenshot("08-not-live");

    // The gateway comes back on the same ports (the guard's session lives in this Vert.x).
    gateway = GatewayFixture.start(vertx, config);
    waitFor(Duration.ofSeconds(30)).until(d -> bodyClass().contains(" live") || bodyClass().equals("live"));
    assertFalse(browser.findElement(By.id("not-live-banner")).isDisplayed());
    assertEquals(base + "/", browser.getCurrentUrl());
    // The restarted gateway gave the screen the taps from before the restart again.
    waitFor(Duration.ofSeconds(5)).until(d -> !d.findElements(By.cssSelector(
        "#feed .pass.reason-superseded[data-holder='" + PETR + "']")).isEmpty());
    // And it is really live again: a new tap shows up. Petr's new card, never tapped here:
    // Maria's card could still be inside readers.repeatSeconds of her tap in test 2 on a fast
    // machine, and a repeat tap rightly makes no second pass (so nothing new on the screen).
    waitFor(Duration.ofSeconds(30)).until(d -> reader.isConnected());
    tap(PETR_NEW_CARD, 7).waitForCompletion(10_000);
    waitFor(Duration.ofSeconds(5)).until(d -> !d.findElements(By.cssSelector(
        "#last .pass.reason-ok[data-holder='" + PETR + "'] .name")).isEmpty());
  }

  @Test
  @Order(8)
  void aMorningOfThreeThousandPassesKeepsTheFeedBounded() throws Exception {
    int passes = 3000;
    MqttAsyncClient flood = new MqttAsyncClient("tcp://127.0.0.1:" + gateway.readerPort(), "r3", new MemoryPersistence());
    MqttConnectOptions options = new MqttConnectOptions();
    options.setCleanSession(true);
    options.setMaxInflight(500);
    flood.connect(options).waitForCompletion(30_000);
    List<Long> feedSizes = new ArrayList<>();
    List<IMqttDeliveryToken> window = new ArrayList<>();
    for (int i = 0; i < passes; i++) {
      String card = i == passes - 1 ? MARIA_CARD : String.format("%08X", 0x10000000 + i);
      window.add(flood.publish("readers/r3/tap", new JsonObject().put("card", card).put("seq", 100_000 + i)
          .toBuffer().getBytes(), 1, false));
      if (window.size() == 400) {
        for (IMqttDeliveryToken t : window) {
          t.waitForCompletion(60_000);
        }
        window.clear();
        feedSizes.add(feedSize());
      }
    }
    for (IMqttDeliveryToken t : window) {
      t.waitForCompletion(60_000);
    }
    flood.disconnect().waitForCompletion(10_000);
    flood.close();

    // The newest (the last tap) ends up on top, the list is cut at 200 and the page still answers.
    String top = "#last .pass[data-holder='" + MARIA + "']";
    waitFor(Duration.ofSeconds(30)).until(d -> !d.findElements(By.cssSelector(top)).isEmpty()
        && feedSize() == LiveFeed.RECENT);
    assertEquals("yard", text("#feed > li:first-child .place").split(" ")[0]);
    feedSizes.add(feedSize());
    assertTrue(feedSizes.stream().allMatch(n -> n <= LiveFeed.RECENT), "feed sizes during the flood: " + feedSizes);
    long elements = (Long) browser.executeScript("return document.getElementsByTagName('*').length");
    assertTrue(elements < 4000, elements + " elements on the page");
    screenshot("09-after-3000-passes");
    // A screen opened now gets the last 200 in one hello and shows them, newest on top.
    browser.navigate().refresh();
    waitUntilLive();
    waitFor(Duration.ofSeconds(10)).until(d -> feedSize() == LiveFeed.RECENT
        && !d.findElements(By.cssSelector(top)).isEmpty());

    long recorded = GatewayFixture.await(gateway.database().pool()
        .query("SELECT count(*) FROM passes WHERE reader = 'r3'").execute()).iterator().next().getLong(0);
    assertEquals(passes, recorded);
  }

  // ---- helpers --------------------------------------------------------------------------------

  /**
   * Publishes a tap as reader r1 and returns at once (not after the PUBACK, which waits for
   * the database), so a wait that follows measures from the tap itself.
   */
  private org.eclipse.paho.client.mqttv3.MqttDeliveryToken tap(String card, long seq) throws Exception {
    org.eclipse.paho.client.mqttv3.MqttMessage message = new org.eclipse.paho.client.mqttv3.MqttMessage(
        new JsonObject().put("card", card).put("seq", seq).toBuffer().getBytes());
    message.setQos(1);
    return reader.getTopic("readers/r1/tap").publish(message);
  }

  private WebDriverWait waitFor(Duration timeout) {
    WebDriverWait wait = new WebDriverWait(browser, timeout, Duration.ofMillis(50));
    wait.ignoring(org.openqa.selenium.StaleElementReferenceException.class);
    wait.ignoring(org.openqa.selenium.NoSuchElementException.class);
    return wait;
  }

  private void waitUntilLive() {
    waitFor(Duration.ofSeconds(10)).until(d -> bodyClass().contains("live") && !bodyClass().contains("not-live"));
  }

  private String bodyClass() {
    String c = browser.findElement(By.tagName("body")).getDomAttribute("class");
    return c == null ? "" : c.trim();
  }

  private String text(String css) {
    return browser.findElement(By.cssSelector(css)).getText();
  }

  private long feedSize() {
    return (Long) browser.executeScript("return document.querySelectorAll('#feed > li').length");
  }

  private boolean photoLoaded(String css) {
    List<WebElement> images = browser.findElements(By.cssSelector(css));
    if (images.isEmpty()) {
      return false;
    }
    Object width = browser.executeScript("return arguments[0].complete ? arguments[0].naturalWidth : 0", images.get(0));
    return width instanceof Long w && w == PHOTO_WIDTH;
  }

  private void screenshot(String name) {
    File shot = browser.getScreenshotAs(OutputType.FILE);
    try {
      Files.copy(shot.toPath(), ARTIFACTS.resolve(name + ".png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
