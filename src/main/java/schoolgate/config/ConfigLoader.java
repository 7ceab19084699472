package schoolgate.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Builds the effective configuration: built-in defaults, then the config file, then
 * {@code GATE_*} environment variables ({@code readers.port} -> {@code GATE_READERS_PORT}).
 * An environment value that parses as JSON is taken as JSON, otherwise as a string.
 * Only keys the gateway knows can be set from the environment, so a typo is reported
 * instead of silently ignored.
 */
public final class ConfigLoader {

  public static final String ENV_PREFIX = "GATE_";

  private ConfigLoader() {
  }

  public static JsonObject defaults() {
    try (InputStream in = ConfigLoader.class.getResourceAsStream("/defaults.json")) {
      return new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalStateException("built-in defaults.json missing", e);
    }
  }

  /** Defaults, merged with {@code file} (if it exists or was named explicitly), then {@code env}. */
  public static GatewayConfig load(Path file, boolean fileRequired, Map<String, String> env) {
    JsonObject json = defaults();
    if (file != null && (fileRequired || Files.exists(file))) {
      json.mergeIn(readFile(file), true);
    }
    applyEnv(json, env);
    return GatewayConfig.from(json);
  }

  static JsonObject readFile(Path file) {
    try {
      return new JsonObject(stripComments(Files.readString(file)));
    } catch (CharacterCodingException e) {
      throw new ConfigException("config file " + file + " is not UTF-8 text (save it as UTF-8)");
    } catch (IOException e) {
      throw new ConfigException("cannot read config file " + file + ": " + e.getMessage());
    } catch (DecodeException e) {
      throw new ConfigException("config file " + file + " is not valid JSON: " + jsonProblem(e));
    } catch (ClassCastException e) {
      throw new ConfigException("config file " + file + " is not a JSON object: " + e.getMessage());
    }
  }

  /** Jackson's own words and where, without its notes on how it was configured. */
  private static String jsonProblem(DecodeException e) {
    if (e.getCause() instanceof JsonProcessingException j && j.getLocation() != null) {
      return "line " + j.getLocation().getLineNr() + ", column " + j.getLocation().getColumnNr()
          + ": " + j.getOriginalMessage();
    }
    return e.getMessage();
  }

  /**
   * Blanks full-line {@code //} comments (a line whose first non-blank characters are
   * {@code //}), keeping the line count so that a JSON error still points at the right line.
   * A {@code //} after a value is not a comment: it may be inside a string (a URL).
   */
  static String stripComments(String text) {
    StringBuilder out = new StringBuilder(text.length());
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      if (i > 0) {
        out.append('\n');
      }
      if (!lines[i].stripLeading().startsWith("//")) {
        out.append(lines[i]);
      }
    }
    return out.toString();
  }

  static void applyEnv(JsonObject json, Map<String, String> env) {
    List<String[]> paths = new ArrayList<>();
    collectPaths(defaults(), new ArrayList<>(), paths);
    for (Map.Entry<String, String> e : env.entrySet()) {
      if (!e.getKey().startsWith(ENV_PREFIX)) {
        continue;
      }
      String[] path = paths.stream()
          .filter(p -> envName(p).equals(e.getKey()))
          .findFirst()
          .orElseThrow(() -> new ConfigException("unknown configuration variable " + e.getKey()));
      JsonObject parent = json;
      for (int i = 0; i < path.length - 1; i++) {
        JsonObject next = parent.getJsonObject(path[i]);
        if (next == null) {
          next = new JsonObject();
          parent.put(path[i], next);
        }
        parent = next;
      }
      parent.put(path[path.length - 1], parseValue(e.getValue()));
    }
  }

  private static Object parseValue(String raw) {
    try {
      return Json.decodeValue(raw);
    } catch (DecodeException notJson) {
      return raw;
    }
  }

  /** Every leaf key path; objects that are maps by nature (readers.map, guards...) are leaves. */
  private static void collectPaths(JsonObject node, List<String> prefix, List<String[]> out) {
    for (String key : node.fieldNames()) {
      List<String> path = new ArrayList<>(prefix);
      path.add(key);
      Object value = node.getValue(key);
      boolean nested = value instanceof JsonObject obj && !obj.isEmpty();
      if (nested) {
        collectPaths((JsonObject) value, path, out);
      } else {
        out.add(path.toArray(String[]::new));
      }
    }
  }

  static String envName(String[] path) {
    StringBuilder sb = new StringBuilder(ENV_PREFIX);
    for (int i = 0; i < path.length; i++) {
      if (i > 0) {
        sb.append('_');
      }
      sb.append(path[i].replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase());
    }
    return sb.toString();
  }
}
