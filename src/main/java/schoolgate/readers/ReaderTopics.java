package schoolgate.readers;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The reader topics of contract section 2, and who may use which. */
public final class ReaderTopics {

  private static final Pattern TAP = Pattern.compile("readers/([^/+#]{1,64})/tap");

  private ReaderTopics() {
  }

  public static String tap(String readerId) {
    return "readers/" + readerId + "/tap";
  }

  public static String decision(String readerId) {
    return "readers/" + readerId + "/decision";
  }

  public static String command(String readerId) {
    return "readers/" + readerId + "/command";
  }

  /** The reader id of a tap topic, or null if {@code topic} is not one. */
  public static String readerOfTap(String topic) {
    Matcher m = TAP.matcher(topic);
    return m.matches() ? m.group(1) : null;
  }

  /** A reader may subscribe to its own decision and command topics (or a wildcard over just them). */
  public static boolean maySubscribe(String readerId, String filter) {
    String own = "readers/" + readerId + "/";
    if (!filter.startsWith(own)) {
      return false;
    }
    String rest = filter.substring(own.length());
    return rest.equals("decision") || rest.equals("command") || rest.equals("+") || rest.equals("#");
  }

  /** Whether a filter allowed by {@link #maySubscribe} matches {@code topic}. */
  public static boolean matches(String filter, String topic) {
    if (filter.equals(topic)) {
      return true;
    }
    if (filter.endsWith("/#")) {
      return topic.startsWith(filter.substring(0, filter.length() - 1));
    }
    if (filter.endsWith("/+")) {
      String prefix = filter.substring(0, filter.length() - 1);
      return topic.startsWith(prefix) && topic.indexOf('/', prefix.length()) < 0;
    }
    return false;
  }
}
