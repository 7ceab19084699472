package schoolgate.config;

import io.vertx.core.json.JsonObject;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/** The effective configuration, validated once at the edge so the rest of the code trusts it. */
public record GatewayConfig(String school, Readers readers, Http http, Db db, Uplink uplink,
                           Map<String, String> guards, Retention retention, JsonObject raw) {

  private static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  public record ReaderPlace(String gate, String direction) {
  }

  public record Readers(String mode, String host, int port, Map<String, ReaderPlace> map,
                        Map<String, String> auth, int repeatSeconds, int maxPayloadBytes,
                        int maxConnections, String username, String password, boolean tls,
                        String clientId, int passBuffer) {
    public boolean embedded() {
      return "embedded".equals(mode);
    }
  }

  /** {@code requestTimeoutSeconds}: how long a connection may take to deliver a whole request. */
  public record Http(String host, int port, int requestTimeoutSeconds) {
  }

  public record Db(String mode, String dir, int port, String url, int poolSize) {
    public boolean embedded() {
      return "embedded".equals(mode);
    }
  }

  /**
   * {@code delayedAfterSeconds}: a pass published later than this after its {@code at} is
   * marked delayed; {@code reconnectMaxSeconds}: the cap of the reconnect back-off.
   */
  public record Uplink(String host, int port, String username, String password, boolean tls,
                       String caFile, int maxInflight, int delayedAfterSeconds, int reconnectMaxSeconds) {
    public boolean enabled() {
      return host != null && !host.isBlank();
    }
  }

  public record Retention(int days) {
  }

  public static GatewayConfig from(JsonObject json) {
    String school = str(json, "school");
    if (school == null || !ID.matcher(school).matches()) {
      throw new ConfigException("school must be 1-64 characters of A-Z a-z 0-9 . _ -, got " + school);
    }
    JsonObject r = obj(json, "readers");
    Map<String, ReaderPlace> map = new LinkedHashMap<>();
    JsonObject rm = obj(r, "map");
    for (String id : rm.fieldNames()) {
      if (!ID.matcher(id).matches()) {
        throw new ConfigException("readers.map: bad reader id '" + id + "'");
      }
      JsonObject place = asObj(rm.getValue(id), "readers.map." + id);
      String gate = str(place, "gate");
      String direction = str(place, "direction");
      if (gate == null || gate.isBlank()) {
        throw new ConfigException("readers.map." + id + ".gate is required");
      }
      if (!"in".equals(direction) && !"out".equals(direction)) {
        throw new ConfigException("readers.map." + id + ".direction must be \"in\" or \"out\"");
      }
      map.put(id, new ReaderPlace(gate, direction));
    }
    Map<String, String> auth = stringMap(obj(r, "auth"), "readers.auth");
    String mode = str(r, "mode");
    if (!"embedded".equals(mode) && !"broker".equals(mode)) {
      throw new ConfigException("readers.mode must be \"embedded\" or \"broker\", got " + mode);
    }
    Readers readers = new Readers(mode, str(r, "host"), port(r, "readers.port"), Map.copyOf(map),
        Map.copyOf(auth), positive(r, "repeatSeconds", "readers.repeatSeconds", true),
        positive(r, "maxPayloadBytes", "readers.maxPayloadBytes", false),
        positive(r, "maxConnections", "readers.maxConnections", false),
        str(r, "username"), str(r, "password"), bool(r, "tls"), str(r, "clientId"),
        positive(r, "passBuffer", "readers.passBuffer", false));

    JsonObject h = obj(json, "http");
    Http http = new Http(str(h, "host"), port(h, "http.port"),
        positive(h, "requestTimeoutSeconds", "http.requestTimeoutSeconds", false));

    JsonObject d = obj(json, "db");
    String dbMode = str(d, "mode");
    if (!"embedded".equals(dbMode) && !"external".equals(dbMode)) {
      throw new ConfigException("db.mode must be \"embedded\" or \"external\", got " + dbMode);
    }
    String url = str(d, "url");
    if ("external".equals(dbMode) && (url == null || !url.startsWith("postgresql://"))) {
      throw new ConfigException("db.url must be postgresql://user:pass@host:port/db when db.mode is external");
    }
    int dbPort = d.getInteger("port", 0);
    if (dbPort < 0 || dbPort > 65535) {
      throw new ConfigException("db.port must be 0..65535");
    }
    Db db = new Db(dbMode, str(d, "dir"), dbPort, url, positive(d, "poolSize", "db.poolSize", false));

    JsonObject u = obj(json, "uplink");
    Uplink uplink = new Uplink(str(u, "host"), port(u, "uplink.port"), str(u, "username"),
        str(u, "password"), bool(u, "tls"), str(u, "caFile"),
        positive(u, "maxInflight", "uplink.maxInflight", false),
        positive(u, "delayedAfterSeconds", "uplink.delayedAfterSeconds", false),
        positive(u, "reconnectMaxSeconds", "uplink.reconnectMaxSeconds", false));

    Map<String, String> guards = stringMap(obj(json, "guards"), "guards");
    Retention retention = new Retention(positive(obj(json, "retention"), "days", "retention.days", false));
    return new GatewayConfig(school, readers, http, db, uplink, Map.copyOf(guards), retention, json);
  }

  private static JsonObject obj(JsonObject json, String key) {
    Object v = json.getValue(key);
    return v == null ? new JsonObject() : asObj(v, key);
  }

  private static JsonObject asObj(Object v, String key) {
    if (v instanceof JsonObject o) {
      return o;
    }
    if (v instanceof Map<?, ?> m) {
      @SuppressWarnings("unchecked") Map<String, Object> cast = (Map<String, Object>) m;
      return new JsonObject(cast);
    }
    throw new ConfigException(key + " must be a JSON object");
  }

  private static String str(JsonObject json, String key) {
    Object v = json.getValue(key);
    if (v == null) {
      return null;
    }
    if (v instanceof String s) {
      return s;
    }
    if (v instanceof Number n) {
      return n.toString();
    }
    throw new ConfigException(key + " must be a string");
  }

  private static boolean bool(JsonObject json, String key) {
    Object v = json.getValue(key);
    if (v == null) {
      return false;
    }
    if (v instanceof Boolean b) {
      return b;
    }
    if ("true".equals(v) || "false".equals(v)) {
      return Boolean.parseBoolean((String) v);
    }
    throw new ConfigException(key + " must be true or false");
  }

  private static int port(JsonObject json, String name) {
    int p = integer(json, name.substring(name.indexOf('.') + 1), name);
    if (p < 0 || p > 65535) {
      throw new ConfigException(name + " must be 0..65535, got " + p);
    }
    return p;
  }

  private static int positive(JsonObject json, String key, String name, boolean zeroAllowed) {
    int v = integer(json, key, name);
    if (v < (zeroAllowed ? 0 : 1)) {
      throw new ConfigException(name + " must be " + (zeroAllowed ? ">= 0" : "> 0") + ", got " + v);
    }
    return v;
  }

  private static int integer(JsonObject json, String key, String name) {
    Object v = json.getValue(key);
    if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) {
      return n.intValue();
    }
    if (v instanceof String s) {
      try {
        return Integer.parseInt(s.trim());
      } catch (NumberFormatException ignored) {
        // reported below
      }
    }
    throw new ConfigException(name + " must be an integer, got " + v);
  }

  private static Map<String, String> stringMap(JsonObject json, String name) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String k : json.fieldNames()) {
      Object v = json.getValue(k);
      if (!(v instanceof String s)) {
        throw new ConfigException(name + "." + k + " must be a string");
      }
      out.put(k, s);
    }
    return out;
  }
}
