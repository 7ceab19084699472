package schoolgate.monitor;

import at.favre.lib.crypto.bcrypt.BCrypt;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import schoolgate.Gateway;
import schoolgate.cards.CardEvent;
import schoolgate.support.GatewayFixture;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.CookieManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** A small school for monitor tests: guards, holders with photos, cards, and an HTTP client. */
final class MonitorTestSupport {

  static final String GUARD = "anna";
  static final String PASSWORD = "Correct-Horse-7";

  static final String MARIA = "h-1001";
  static final String MARIA_NAME = "Иванова Мария Петровна";
  static final String MARIA_CARD = "04A1B2C3D4E5F6";
  static final String PETR = "h-1002";
  static final String PETR_OLD_CARD = "04B0B0B0B0B001";
  static final String PETR_NEW_CARD = "04B0B0B0B0B002";
  static final String ALYONA = "h-1003";
  static final String ALYONA_NAME = "Смирнова Алёна Игоревна";
  static final int PHOTO_WIDTH = 120;
  static final int PHOTO_HEIGHT = 150;

  private MonitorTestSupport() {
  }

  /** The fixture's config with one guard (a cheap bcrypt cost: tests need not be slow). */
  static JsonObject config(Path dir) {
    JsonObject config = GatewayFixture.config(dir);
    config.put("guards", new JsonObject().put(GUARD, BCrypt.withDefaults().hashToString(4, PASSWORD.toCharArray())));
    return config;
  }

  /** Holders and cards as the centre would send them; Petr's temporary card was replaced. */
  static void loadSchool(Gateway gateway) {
    List<JsonObject> events = new ArrayList<>();
    events.add(holder(1, MARIA, MARIA_NAME, "5А", new Color(40, 90, 160)));
    events.add(card(2, MARIA_CARD, MARIA, 1, "permanent"));
    events.add(holder(3, PETR, "Петров Пётр Сергеевич", "7Б", new Color(160, 60, 40)));
    events.add(card(4, PETR_OLD_CARD, PETR, 1, "temporary"));
    events.add(card(5, PETR_NEW_CARD, PETR, 2, "permanent"));
    events.add(holder(6, ALYONA, ALYONA_NAME, "3В", new Color(60, 140, 70)));
    events.add(card(7, "04C0C0C0C0C001", ALYONA, 1, "permanent"));
    List<CardEvent> parsed = new ArrayList<>();
    events.forEach(e -> parsed.add(CardEvent.parse(e)));
    GatewayFixture.await(gateway.applier().apply(parsed));
  }

  static JsonObject holder(long seq, String id, String name, String className, Color color) {
    return new JsonObject().put("seq", seq).put("type", "holder").put("holder", new JsonObject()
        .put("id", id).put("name", name).put("class", className).put("active", true)
        .put("photo", Base64.getEncoder().encodeToString(jpeg(color))));
  }

  static JsonObject card(long seq, String uid, String holder, int issue, String kind) {
    return new JsonObject().put("seq", seq).put("type", "card").put("card", new JsonObject()
        .put("uid", uid).put("holder", holder).put("issue", issue).put("kind", kind).put("state", "active"));
  }

  /** A plain portrait-sized JPEG: a head and shoulders in one colour. */
  static byte[] jpeg(Color color) {
    BufferedImage image = new BufferedImage(PHOTO_WIDTH, PHOTO_HEIGHT, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    g.setColor(new Color(235, 235, 240));
    g.fillRect(0, 0, PHOTO_WIDTH, PHOTO_HEIGHT);
    g.setColor(color);
    g.fillOval(35, 20, 50, 60);
    g.fillRoundRect(15, 90, 90, 70, 40, 40);
    g.dispose();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ImageIO.write(image, "jpg", out);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return out.toByteArray();
  }

  /** Rows of the passes table with source guard, oldest first. */
  static List<Row> guardPasses(Gateway gateway) {
    List<Row> rows = new ArrayList<>();
    GatewayFixture.await(gateway.database().pool()
        .query("SELECT reader, gate, direction, card, holder_id, open, reason, source, guard, note"
            + " FROM passes WHERE source = 'guard' ORDER BY n").execute())
        .forEach(rows::add);
    return rows;
  }

  /** A plain HTTP client that keeps cookies, like a browser, without following redirects. */
  static final class Http {
    final String base;
    final HttpClient client;
    final CookieManager cookies = new CookieManager();

    Http(int port) {
      this.base = "http://127.0.0.1:" + port;
      this.client = HttpClient.newBuilder().cookieHandler(cookies)
          .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(10)).build();
    }

    HttpResponse<String> get(String path, String... headers) {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
      for (int i = 0; i < headers.length; i += 2) {
        b.header(headers[i], headers[i + 1]);
      }
      return send(b.GET().build());
    }

    HttpResponse<String> post(String path, String json, String... headers) {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
          .header("Content-Type", "application/json");
      for (int i = 0; i < headers.length; i += 2) {
        b.header(headers[i], headers[i + 1]);
      }
      return send(b.POST(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    /** A POST as an HTML form sends it (url-encoded body). */
    HttpResponse<String> postForm(String path, String form, String... headers) {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
          .header("Content-Type", "application/x-www-form-urlencoded");
      for (int i = 0; i < headers.length; i += 2) {
        b.header(headers[i], headers[i + 1]);
      }
      return send(b.POST(HttpRequest.BodyPublishers.ofString(form)).build());
    }

    HttpResponse<String> login(String login, String password) {
      return post("/login", new JsonObject().put("login", login).put("password", password).encode());
    }

    /** The Cookie header a browser would send (the session cookie), or null. */
    String cookieHeader() {
      List<String> parts = new ArrayList<>();
      cookies.getCookieStore().get(URI.create(base)).forEach(c -> parts.add(c.getName() + "=" + c.getValue()));
      return parts.isEmpty() ? null : String.join("; ", parts);
    }

    /** The session's CSRF token (after a login). */
    String csrf() {
      return new JsonObject(get("/api/me").body()).getString("csrf");
    }

    private HttpResponse<String> send(HttpRequest request) {
      try {
        return client.send(request, HttpResponse.BodyHandlers.ofString());
      } catch (IOException e) {
        throw new IllegalStateException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }
}
