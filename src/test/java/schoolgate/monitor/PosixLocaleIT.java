package schoolgate.monitor;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import schoolgate.support.GatewayFixture;
import schoolgate.support.GatewayProcess;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The guard's page in Russian from a gateway started without a locale, as on a Debian box
 * where none was set or from a bare {@code su -} shell: Java 17 then takes US-ASCII as its
 * charset, and the page's files were once declared so, which a browser shows as mojibake.
 */
class PosixLocaleIT {

  /** A file of the page, and Russian words it must carry intact. */
  private static final Map<String, String> FILES = Map.of(
      "/public/login.html", "Вход для охраны",
      "/public/i18n.js", "Пост охраны",
      "/app/index.html", "Открыть турникет вручную",
      "/app/app.js", "import");

  @Test
  void thePageIsServedAsUtf8WhateverTheLocale(@TempDir Path dir) throws Exception {
    int httpPort = GatewayFixture.freePort();
    int readerPort = GatewayFixture.freePort();
    JsonObject config = MonitorTestSupport.config(dir);
    config.getJsonObject("http").put("port", httpPort);
    config.getJsonObject("readers").put("port", readerPort);
    Path configFile = dir.resolve("gateway.json");
    Files.writeString(configFile, config.encodePrettily());

    try (GatewayProcess gateway = GatewayProcess.startListening(configFile, dir.resolve("gateway.log"), httpPort)) {
      MonitorTestSupport.Http http = new MonitorTestSupport.Http(httpPort);
      assertEquals(200, http.login(MonitorTestSupport.GUARD, MonitorTestSupport.PASSWORD).statusCode());
      for (Map.Entry<String, String> file : FILES.entrySet()) {
        HttpResponse<String> response = http.get(file.getKey());
        assertEquals(200, response.statusCode(), file.getKey());
        String type = response.headers().firstValue("content-type").orElse("").toLowerCase(Locale.ROOT);
        assertTrue(type.contains("charset=utf-8"), file.getKey() + " is served as " + type);
        // The client decodes by the declared charset: a wrong one turns Cyrillic into U+FFFD.
        assertTrue(response.body().contains(file.getValue()), file.getKey() + " lost its text");
      }
    }
  }
}
