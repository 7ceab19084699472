package schoolgate.fuzz;

import at.favre.lib.crypto.bcrypt.BCrypt;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import schoolgate.support.CardEvents;
import schoolgate.support.GatewayFixture;
import schoolgate.support.PahoReader;
import schoolgate.support.Pg;
import schoolgate.support.RawSocket;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The monitor's HTTP and WebSocket surface against a running gateway: generated requests
 * (random methods, paths, headers, cookies and bodies, huge ones, invalid UTF-8 and JSON;
 * with and without a guard's session and CSRF token) over keep-alive connections, malformed
 * HTTP over raw sockets, and malformed WebSocket upgrades and frames. Every answer is a 2xx,
 * 3xx or 4xx, never a 5xx and never silence; the guard's session survives; the gateway stays
 * healthy (/health 200, a tap answered); and the database holds exactly one guard pass per
 * action answered 200, none for anything else. (One answer is Vert.x's own, before any
 * handler: a request line with another protocol version than exactly HTTP/1.0 or 1.1, say
 * {@code HTTP/9.9} or {@code HtTP/1.1}, gets {@code 501 Not Implemented}; it is counted apart
 * (as -501), not failed.)
 * Long run: {@code mvn verify -Dtest=none -Dit.test=MonitorFuzzIT -Dfuzz.count=1000000}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MonitorFuzzIT {

  static final String GUARD = "anna";
  static final String PASSWORD = "Correct-Horse-7";
  static final String HOLDER = "h-1";
  static final String CARD = "04A1B2C3D4E5F6";
  /** Generous: an answer that takes longer than this is counted as none. */
  static final int ANSWER_SECONDS = 60;

  private static final String[] METHODS = {"GET", "GET", "GET", "POST", "POST", "POST", "PUT", "DELETE", "PATCH",
      "HEAD", "OPTIONS", "TRACE", "PROPFIND", "get", "FOO"};
  private static final String[] PATHS = {"/", "/login", "/health", "/metrics", "/ws", "/api/me", "/api/readers",
      "/api/roster?q=%D0%B8%D0%B2", "/api/roster?q=", "/api/roster?q=%FF%FE%00", "/api/open", "/api/admit",
      "/api/open", "/api/admit", "/api/anything", "/photo/" + HOLDER, "/photo/", "/photo/..%2F..%2Fetc%2Fpasswd",
      "/public/login.js", "/public/style.css", "/public/../app/app.js", "/app/app.js", "/app/index.html",
      "/index.html", "/%00", "/%ZZ", "/api/%2e%2e/health", "//api//open", "/api/open/", "/api/open?x=1",
      "/public/%2e%2e/%2e%2e/pom.xml", "/favicon.ico"};
  private static final List<String> BODIES = List.of(
      "{\"reader\": \"r1\", \"reason\": \"проверка\"}",
      "{\"holder\": \"" + HOLDER + "\", \"reader\": \"r2\", \"reason\": \"забыла карту\"}",
      "{\"login\": \"anna\", \"password\": \"wrong-password\"}",
      "{\"reader\": \"r9\", \"reason\": \"x\", \"holder\": \"nobody\"}",
      "reader=r1&reason=x&holder=h-1");
  private static final String[] CONTENT_TYPES = {"application/json", "application/json; charset=utf-8",
      "application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz", "text/plain", "application/json;;;",
      "\u00ff\u00fe", ""};

  private GatewayFixture.Running running;
  private String session;
  private String csrf;
  private int port;

  @BeforeAll
  void start() throws Exception {
    running = GatewayFixture.startInTempDir("monitor-fuzz-", c -> {
      c.put("guards", new JsonObject().put(GUARD, BCrypt.withDefaults().hashToString(4, PASSWORD.toCharArray())));
      c.getJsonObject("readers").put("repeatSeconds", 0);
    }, List.of(CardEvents.holder(1, HOLDER, "Иванова Мария Петровна", "5А", true),
        CardEvents.card(2, CARD, HOLDER, 1, "permanent", "active")));
    port = running.gateway().httpPort();
    login();
  }

  @AfterAll
  void stop() throws Exception {
    running.close();
  }

  // ---- a small HTTP/1.1 client that sends whatever it is given ------------------------

  record Answer(int status, Map<String, String> headers, byte[] body) {
  }

  /** One keep-alive connection; reopened when the gateway closes it. */
  private final class Conn implements AutoCloseable {
    Socket socket;
    InputStream in;
    OutputStream out;
    int opened;
    /** Requests sent on the current socket. */
    int used;

    void ensure() throws IOException {
      if (socket == null) {
        socket = new Socket("127.0.0.1", port);
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(ANSWER_SECONDS * 1000);
        in = new java.io.BufferedInputStream(socket.getInputStream(), 16 * 1024);
        out = new java.io.BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
        opened++;
        used = 0;
      }
    }

    /**
     * Sends a request and reads its answer; null if the connection was closed without one. A
     * kept-alive connection the gateway closed after its previous answer (as it may after a
     * 400) is reopened and the request sent again once, as browsers do.
     */
    Answer exchange(byte[] request, boolean head) throws IOException {
      ensure();
      boolean reused = used > 0;
      Answer a = exchangeOnce(request, head);
      if (a == null && reused) {
        a = exchangeOnce(request, head);
      }
      return a;
    }

    private Answer exchangeOnce(byte[] request, boolean head) throws IOException {
      ensure();
      used++;
      try {
        out.write(request);
        out.flush();
      } catch (IOException closedEarly) {
        // the gateway may answer (413, 431) and close before reading everything
      }
      Answer a;
      try {
        a = read(in, head);
      } catch (java.net.SocketTimeoutException e) {
        throw new AssertionError("no answer within " + ANSWER_SECONDS + " s to "
            + new String(request, 0, Math.min(200, request.length), StandardCharsets.ISO_8859_1));
      } catch (IOException reset) {
        a = null;
      }
      if (a == null || "close".equalsIgnoreCase(a.headers().get("connection"))) {
        close();
      }
      return a;
    }

    @Override
    public void close() {
      if (socket != null) {
        try {
          socket.close();
        } catch (IOException ignored) {
          // closing anyway
        }
        socket = null;
      }
    }
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) >= 0) {
      if (c == '\n') {
        break;
      }
      if (c != '\r') {
        b.write(c);
      }
    }
    if (c < 0 && b.size() == 0) {
      return null;
    }
    return b.toString(StandardCharsets.ISO_8859_1);
  }

  /** One response (1xx skipped); null on EOF before a status line. */
  static Answer read(InputStream in, boolean head) throws IOException {
    while (true) {
      String status = line(in);
      if (status == null) {
        return null;
      }
      if (!status.startsWith("HTTP/1.")) {
        throw new AssertionError("not an HTTP status line: " + status);
      }
      int code = Integer.parseInt(status.substring(9, 12));
      Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
      String h;
      while ((h = line(in)) != null && !h.isEmpty()) {
        int colon = h.indexOf(':');
        if (colon > 0) {
          headers.put(h.substring(0, colon).trim(), h.substring(colon + 1).trim());
        }
      }
      if (code >= 100 && code < 200 && code != 101) {
        continue;
      }
      byte[] body = new byte[0];
      if (!head && code != 204 && code != 304 && code != 101) {
        if (headers.containsKey("content-length")) {
          body = in.readNBytes(Integer.parseInt(headers.get("content-length")));
        } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
          ByteArrayOutputStream b = new ByteArrayOutputStream();
          while (true) {
            String size = line(in);
            int n = Integer.parseInt(size.split(";")[0].trim(), 16);
            if (n == 0) {
              while ((h = line(in)) != null && !h.isEmpty()) {
                // trailers
              }
              break;
            }
            b.write(in.readNBytes(n));
            line(in);
          }
          body = b.toByteArray();
        } else {
          body = in.readAllBytes();
        }
      }
      return new Answer(code, headers, body);
    }
  }

  static byte[] request(String method, String path, Map<String, String> headers, byte[] body) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    StringBuilder head = new StringBuilder().append(method).append(' ').append(path).append(" HTTP/1.1\r\n");
    headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
    if (body != null) {
      head.append("Content-Length: ").append(body.length).append("\r\n");
    }
    head.append("\r\n");
    b.writeBytes(head.toString().getBytes(StandardCharsets.UTF_8));
    if (body != null) {
      b.writeBytes(body);
    }
    return b.toByteArray();
  }

  private Answer once(String method, String path, Map<String, String> headers, byte[] body) throws IOException {
    try (Conn c = new Conn()) {
      Map<String, String> h = new HashMap<>(headers);
      h.put("Host", "127.0.0.1:" + port);
      h.put("Connection", "close");
      return c.exchange(request(method, path, h, body), method.equals("HEAD"));
    }
  }

  private void login() throws IOException {
    Answer a = once("POST", "/login", Map.of("Content-Type", "application/json"),
        new JsonObject().put("login", GUARD).put("password", PASSWORD).toBuffer().getBytes());
    assertEquals(200, a.status(), new String(a.body(), StandardCharsets.UTF_8));
    String cookie = a.headers().get("set-cookie");
    assertNotNull(cookie);
    session = cookie.substring(0, cookie.indexOf(';'));
    Answer me = once("GET", "/api/me", Map.of("Cookie", session), null);
    assertEquals(200, me.status());
    csrf = new JsonObject(new String(me.body(), StandardCharsets.UTF_8)).getString("csrf");
  }

  private long guardPasses() {
    return Pg.count(running.pool(), "SELECT count(*) FROM passes WHERE source = 'guard'");
  }

  private long tapPasses() {
    return Pg.count(running.pool(), "SELECT count(*) FROM passes WHERE source = 'tap'");
  }

  /** Healthy: /health 200, the guard's session still works, a tap is answered. */
  private void assertHealthy(PahoReader reader) throws Exception {
    assertEquals(200, once("GET", "/health", Map.of(), null).status(), "/health");
    assertEquals(200, once("GET", "/api/me", Map.of("Cookie", session), null).status(), "the guard's session ended");
    JsonObject d = reader.tap(CARD);
    assertEquals("ok", d.getString("reason"), d.toString());
  }

  // ---- generators ------------------------------------------------------------------------

  private static String randomAscii(SplittableRandom r, int max) {
    StringBuilder s = new StringBuilder();
    int n = r.nextInt(max + 1);
    for (int i = 0; i < n; i++) {
      s.append((char) (0x21 + r.nextInt(0x7e - 0x21)));
    }
    return s.toString();
  }

  private static String path(SplittableRandom r) {
    String p = PATHS[r.nextInt(PATHS.length)];
    switch (r.nextInt(6)) {
      case 0:
        return p + randomAscii(r, 20).replace("#", "%23");
      case 1: {
        StringBuilder s = new StringBuilder(p);
        for (int i = r.nextInt(20); i > 0; i--) {
          s.append('%').append(String.format("%02X", r.nextInt(256)));
        }
        return s.toString();
      }
      case 2:
        return p + "/" + "a".repeat(r.nextInt(r.nextInt(10) == 0 ? 9000 : 200));
      default:
        return p;
    }
  }

  private static byte[] body(SplittableRandom r, Mutator mutator) {
    switch (r.nextInt(8)) {
      case 0: {
        byte[] b = new byte[r.nextInt(300)];
        r.nextBytes(b); // mostly invalid UTF-8
        return b;
      }
      case 1:
        if (r.nextInt(20) == 0) {
          byte[] huge = new byte[16 * 1024 + r.nextInt(r.nextInt(10) == 0 ? 2_000_000 : 64 * 1024)];
          java.util.Arrays.fill(huge, (byte) (r.nextBoolean() ? '[' : 'x'));
          return huge;
        }
        return "[".repeat(r.nextInt(5000)).getBytes(StandardCharsets.US_ASCII);
      case 2:
      case 3:
        return BODIES.get(r.nextInt(BODIES.size())).getBytes(StandardCharsets.UTF_8);
      default:
        return mutator.next();
    }
  }

  /** The first 2,000 bytes of a request, control and non-ASCII bytes escaped, for a failure message. */
  static String printable(byte[] request) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < Math.min(2000, request.length); i++) {
      int c = request[i] & 0xFF;
      b.append(c == '\n' ? "\\n\n" : c == '\r' ? "\\r" : c < 0x20 || c > 0x7e ? String.format("\\x%02x", c) : (char) c);
    }
    return b.append(request.length > 2000 ? "... (" + request.length + " bytes)" : "").toString();
  }

  /** Whether the request line of {@code input} ends in exactly HTTP/1.0 or HTTP/1.1. */
  static boolean http1x(byte[] input) {
    String text = new String(input, StandardCharsets.ISO_8859_1);
    int end = text.indexOf('\n');
    String first = (end < 0 ? text : text.substring(0, end)).strip();
    return first.endsWith(" HTTP/1.1") || first.endsWith(" HTTP/1.0");
  }

  /** Whether a path (decoded as the router would see it) could reach logout. */
  private static boolean mayLogOut(String path) {
    String p = path;
    try {
      p = URLDecoder.decode(path.replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException undecodable) {
      // as it is
    }
    return p.toLowerCase(Locale.ROOT).contains("logout") || path.toLowerCase(Locale.ROOT).contains("logout");
  }

  // ---- the tests -------------------------------------------------------------------------

  /** Regression: a query string that is not valid percent-encoding made /api/roster answer 500. */
  @Test
  @Order(0)
  void aBadlyEncodedQueryIs400() throws Exception {
    for (String q : List.of("%ZZ", "%", "a%&b", "%E0%A4%A", "%%%")) {
      Answer a = once("GET", "/api/roster?q=" + q, Map.of("Cookie", session), null);
      assertEquals(400, a.status(), "roster?q=" + q);
    }
    Answer ok = once("GET", "/api/roster?q=%D0%B8%D0%B2%D0%B0%D0%BD", Map.of("Cookie", session), null);
    assertEquals(200, ok.status());
    // Regression: with a form body the request was never answered at all.
    for (String path : List.of("/login?%ZZ", "/api/open?a=%", "/api/admit?%E0%A4%A")) {
      Answer a = once("POST", path, Map.of("Cookie", session, "X-CSRF-Token", csrf,
          "Content-Type", "application/x-www-form-urlencoded"), "login=a&password=b&reader=r1&reason=x"
          .getBytes(StandardCharsets.US_ASCII));
      assertNotNull(a, path);
      assertEquals(400, a.status(), "POST " + path);
    }
  }

  /** Regression: a photo id with a NUL in it made PostgreSQL refuse the look-up, answered 503. */
  @Test
  @Order(0)
  void aPhotoIdWithControlCharactersIs404() throws Exception {
    for (String id : List.of("%00", "h-1%00", "%B5%04%8B%90%00%90", "%01%02", "h%7F1")) {
      Answer a = once("GET", "/photo/" + id, Map.of("Cookie", session), null);
      assertEquals(404, a.status(), "/photo/" + id);
    }
    assertEquals(200, once("GET", "/api/me", Map.of("Cookie", session), null).status());
  }

  /** Unparseable requests get a word (400, 414, 431) before the connection closes. */
  @Test
  @Order(0)
  void anUnparseableRequestIsAnswered400() throws Exception {
    for (String request : List.of("GET /health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
        "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab")) {
      try (RawSocket s = RawSocket.connect(port)) {
        s.write(request);
        byte[] answer = s.readUntilClosed(ANSWER_SECONDS);
        assertNotNull(answer, "left open: " + request);
        String text = new String(answer, StandardCharsets.ISO_8859_1);
        assertTrue(text.startsWith("HTTP/1.1 400"), request.replace("\r\n", "|") + " answered: " + text);
      }
    }
  }

  @Test
  @Order(1)
  void generatedRequestsGetA2xx3xxOr4xxAndOnlyValidActionsRecordAPass() throws Exception {
    int n = Mutator.count(20_000);
    SplittableRandom r = new SplittableRandom(20261124L);
    Mutator mutator = new Mutator(7L, BODIES);
    long guardBefore = guardPasses();
    long tapsBefore = tapPasses();
    long actionsAnswered200 = 0;
    int tapsMade = 0;
    Map<Integer, Integer> statuses = new TreeMap<>();
    long started = System.nanoTime();
    try (Conn conn = new Conn(); PahoReader reader = PahoReader.connect(running.gateway().readerPort(), "r1", null)) {
      for (int i = 0; i < n; i++) {
        String method = METHODS[r.nextInt(METHODS.length)];
        String path = path(r);
        boolean withSession = r.nextInt(3) > 0;
        boolean withToken = withSession && r.nextBoolean() && !mayLogOut(path);
        Map<String, String> headers = new java.util.LinkedHashMap<>();
        if (r.nextInt(20) > 0) {
          headers.put("Host", r.nextInt(30) == 0 ? randomAscii(r, 30) : "127.0.0.1:" + port);
        }
        List<String> cookies = new ArrayList<>();
        if (withSession) {
          cookies.add(session);
        }
        if (r.nextInt(4) == 0) {
          cookies.add(r.nextBoolean() ? "gate.session=" + randomAscii(r, 64).replace(";", "")
              : randomAscii(r, 40).replace(";", "") + "=" + randomAscii(r, 40).replace(";", ""));
        }
        if (!cookies.isEmpty()) {
          headers.put("Cookie", String.join("; ", cookies));
        }
        if (withToken) {
          headers.put("X-CSRF-Token", csrf);
        } else if (r.nextInt(4) == 0) {
          headers.put("X-CSRF-Token", r.nextBoolean() ? csrf.substring(1) : randomAscii(r, 50));
        }
        switch (r.nextInt(8)) {
          case 0 -> headers.put("Origin", "http://evil.example");
          case 1 -> headers.put("Origin", "http://127.0.0.1:" + port);
          case 2 -> headers.put("Origin", randomAscii(r, 30));
          default -> { }
        }
        headers.put("Accept", switch (r.nextInt(4)) {
          case 0 -> "text/html";
          case 1 -> "application/json";
          case 2 -> randomAscii(r, 20);
          default -> "*/*";
        });
        if (r.nextInt(5) == 0) {
          headers.put("X-" + randomAscii(r, 10).replace(":", ""), randomAscii(r, r.nextInt(10) == 0 ? 4000 : 60));
        }
        byte[] body = null;
        if (!method.equals("GET") && !method.equals("HEAD") || r.nextInt(10) == 0) {
          if (r.nextInt(10) > 0) {
            body = body(r, mutator);
            headers.put("Content-Type", CONTENT_TYPES[r.nextInt(CONTENT_TYPES.length)]);
          }
        }
        Answer a = conn.exchange(request(method, path, headers, body), method.equals("HEAD"));
        if (a == null) {
          // Closed without an answer: only acceptable for what a server may refuse to read
          // (a body over the limit, a header block over the limit).
          assertTrue(body != null && body.length > 16 * 1024 || headers.values().stream().anyMatch(v -> v.length() > 3000),
              "request #" + i + " got no answer: " + printable(request(method, path, headers, body)));
          statuses.merge(0, 1, Integer::sum);
          continue;
        }
        statuses.merge(a.status(), 1, Integer::sum);
        if (a.status() >= 500 || a.status() < 200) {
          fail("request #" + i + " answered " + a.status() + ": " + new String(a.body(), StandardCharsets.UTF_8)
              + "\n" + printable(request(method, path, headers, body)));
        }
        boolean action = method.equals("POST") && a.status() == 200
            && (path.startsWith("/api/open") || path.startsWith("/api/admit") || path.startsWith("//api//"));
        if (method.equals("POST") && a.status() == 200 && !path.startsWith("/login")) {
          assertTrue(withToken, "request #" + i + " " + path + " answered 200 without the session's token");
          actionsAnswered200 += action ? 1 : 0;
          assertTrue(action || path.contains("logout"), "a POST answered 200: " + path);
        }
        if ((i + 1) % 2000 == 0) {
          assertHealthy(reader);
          tapsMade++;
        }
      }
      assertHealthy(reader);
      tapsMade++;
      System.out.printf("monitor fuzz: %d requests in %.1f s over %d connections; statuses %s;"
              + " %d actions answered 200%n", n, (System.nanoTime() - started) / 1e9, conn.opened, statuses,
          actionsAnswered200);
    }
    assertTrue(statuses.getOrDefault(200, 0) > 0 && statuses.keySet().stream().anyMatch(s -> s >= 400),
        "the generator makes both valid and invalid requests: " + statuses);
    assertEquals(guardBefore + actionsAnswered200, guardPasses(), "one guard pass per action answered 200, no other");
    assertEquals(tapsBefore + tapsMade, tapPasses(), "no tap pass from HTTP");
  }

  /** Malformed HTTP on a fresh connection each, then half-closed: answered 4xx or closed, never 5xx. */
  @Test
  @Order(2)
  void malformedHttpIsAnswered4xxOrClosed() throws Exception {
    int n = Math.max(500, Mutator.count(20_000) / 20);
    SplittableRandom r = new SplittableRandom(11L);
    List<String> seeds = List.of(
        "GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n"
            + "{\"login\":\"anna\",\"password\":\"wrong-pw1\"}",
        "POST /api/open HTTP/1.1\r\nHost: x\r\nCookie: " + session + "\r\nX-CSRF-Token: " + csrf
            + "\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n0\r\n\r\n",
        "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nCookie: " + session + "\r\n\r\n",
        "GET /health HTTP/9.9\r\nHost: x\r\n\r\n",
        "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        "GET /health HTTP/1.1\r\n Folded: header\r\nHost: x\r\n\r\n",
        "POST /api/admit HTTP/1.1\r\nHost: x\r\nCookie: " + session + "\r\nX-CSRF-Token: " + csrf
            + "\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFF\r\nabc\r\n");
    Mutator mutator = new Mutator(99L, seeds);
    long guardBefore = guardPasses();
    int closedSilently = 0;
    Map<Integer, Integer> statuses = new TreeMap<>();
    for (int i = 0; i < n; i++) {
      byte[] input;
      if (r.nextInt(5) == 0) {
        input = new byte[r.nextInt(2000)];
        r.nextBytes(input);
      } else {
        input = mutator.next();
      }
      try (RawSocket s = RawSocket.connect(port)) {
        s.write(input);
        s.socket().shutdownOutput();
        byte[] answer = s.readUntilClosed(ANSWER_SECONDS);
        assertNotNull(answer, "malformed input #" + i + " left the connection open: "
            + new String(input, StandardCharsets.ISO_8859_1));
        if (answer.length == 0) {
          closedSilently++;
          continue;
        }
        String text = new String(answer, StandardCharsets.ISO_8859_1);
        // Several pipelined requests may each be answered: none with a 5xx.
        int at = 0;
        while ((at = text.indexOf("HTTP/1.", at)) >= 0) {
          if ((at == 0 || text.charAt(at - 1) == '\n') && at + 12 <= text.length() && text.charAt(at + 8) == ' ') {
            int status = Integer.parseInt(text.substring(at + 9, at + 12));
            statuses.merge(status, 1, Integer::sum);
            assertTrue(status < 500 || status == 501 && !http1x(input), "malformed input #" + i + " answered "
                + status + ": " + printable(input));
          }
          at += 7;
        }
        // Vert.x itself (before any handler of the gateway's) answers a request line whose
        // protocol version is not exactly HTTP/1.0 or 1.1 ("HTTP/9.9", "HtTP/1.1") with 501 Not
        // Implemented and keeps the connection. Not the gateway's: counted, not failed.
        if (text.matches("(?s)^\\S+/\\d+\\.\\d+ 501 .*") && !http1x(input)) {
          statuses.merge(-501, 1, Integer::sum);
        }
      }
    }
    System.out.printf("malformed HTTP: %d inputs, %d closed without an answer, statuses %s%n", n, closedSilently,
        statuses);
    try (PahoReader reader = PahoReader.connect(running.gateway().readerPort(), "r2", null)) {
      assertHealthy(reader);
    }
    assertEquals(guardBefore, guardPasses(), "malformed HTTP recorded a guard pass");
  }

  /** Malformed upgrades and frames on the live feed: refused or closed; the gateway serves on. */
  @Test
  @Order(3)
  void malformedWebSocketUpgradesAndFramesAreRefusedOrClosed() throws Exception {
    int n = Math.max(300, Mutator.count(20_000) / 40);
    SplittableRandom r = new SplittableRandom(5L);
    String key = Base64.getEncoder().encodeToString("0123456789abcdef".getBytes(StandardCharsets.US_ASCII));
    int upgraded = 0;
    Map<Integer, Integer> statuses = new TreeMap<>();
    for (int i = 0; i < n; i++) {
      Map<String, String> h = new java.util.LinkedHashMap<>();
      h.put("Host", "127.0.0.1:" + port);
      boolean valid = r.nextInt(3) > 0;
      h.put("Upgrade", valid || r.nextBoolean() ? "websocket" : randomAscii(r, 12));
      h.put("Connection", valid || r.nextBoolean() ? "Upgrade" : "keep-alive");
      h.put("Sec-WebSocket-Version", valid || r.nextBoolean() ? "13" : Integer.toString(r.nextInt(20)));
      h.put("Sec-WebSocket-Key", valid || r.nextBoolean() ? key : randomAscii(r, 30));
      if (valid || r.nextBoolean()) {
        h.put("Cookie", session);
      }
      if (!valid && r.nextBoolean()) {
        h.put("Origin", "http://evil.example");
      }
      if (r.nextInt(4) == 0) {
        h.put("Sec-WebSocket-Extensions", r.nextBoolean() ? "permessage-deflate; client_max_window_bits" : randomAscii(r, 40));
      }
      try (RawSocket s = RawSocket.connect(port)) {
        s.socket().setSoTimeout(ANSWER_SECONDS * 1000);
        s.write(request(r.nextInt(10) == 0 ? "POST" : "GET", "/ws", h, null));
        // Status and headers only: what follows a 101 is the feed, not a body.
        Answer a = read(s.socket().getInputStream(), true);
        assertNotNull(a, "upgrade #" + i + " " + h + " closed without an answer");
        statuses.merge(a.status(), 1, Integer::sum);
        assertTrue(a.status() < 500, "upgrade #" + i + " " + h + " answered " + a.status());
        if (a.status() != 101) {
          continue;
        }
        upgraded++;
        // Frames: random bytes, unmasked, oversize, bad UTF-8, reserved opcodes, huge lengths.
        ByteArrayOutputStream frames = new ByteArrayOutputStream();
        for (int f = 1 + r.nextInt(4); f > 0; f--) {
          frames.writeBytes(frame(r));
        }
        s.write(frames.toByteArray());
      }
    }
    System.out.printf("WebSocket fuzz: %d upgrades tried, %d upgraded and sent bad frames; statuses %s%n", n,
        upgraded, statuses);
    assertTrue(upgraded > 0, "some upgrades are valid");
    try (PahoReader reader = PahoReader.connect(running.gateway().readerPort(), "r3", null)) {
      assertHealthy(reader);
    }
  }

  private static byte[] frame(SplittableRandom r) {
    ByteArrayOutputStream f = new ByteArrayOutputStream();
    int kind = r.nextInt(7);
    if (kind == 0) {
      byte[] b = new byte[r.nextInt(200)];
      r.nextBytes(b);
      return b;
    }
    int opcode = switch (kind) {
      case 1 -> 0x1;                 // text
      case 2 -> 0x2;                 // binary
      case 3 -> 0x8 + r.nextInt(8);  // control, also reserved
      case 4 -> 0x3 + r.nextInt(5);  // reserved data opcodes
      default -> r.nextInt(16);
    };
    boolean fin = r.nextInt(4) > 0;
    int rsv = r.nextInt(5) == 0 ? r.nextInt(8) << 4 : 0;
    f.write((fin ? 0x80 : 0) | rsv | opcode);
    boolean masked = r.nextInt(6) > 0;
    byte[] payload = new byte[r.nextInt(r.nextInt(10) == 0 ? 10_000 : 200)];
    r.nextBytes(payload);
    long announced = r.nextInt(10) == 0 ? Long.MAX_VALUE - r.nextInt(1000) : payload.length;
    if (announced < 126) {
      f.write((masked ? 0x80 : 0) | (int) announced);
    } else if (announced < 65536) {
      f.write((masked ? 0x80 : 0) | 126);
      f.write((int) (announced >> 8) & 0xFF);
      f.write((int) announced & 0xFF);
    } else {
      f.write((masked ? 0x80 : 0) | 127);
      for (int i = 7; i >= 0; i--) {
        f.write((int) (announced >> (8 * i)) & 0xFF);
      }
    }
    if (masked) {
      byte[] mask = new byte[4];
      r.nextBytes(mask);
      f.writeBytes(mask);
    }
    f.writeBytes(payload);
    return f.toByteArray();
  }
}
