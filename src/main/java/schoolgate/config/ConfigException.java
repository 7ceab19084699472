package schoolgate.config;

/** A configuration the gateway cannot run with; the message says which key and why. */
public class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message);
  }
}
