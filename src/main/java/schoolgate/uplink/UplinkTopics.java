package schoolgate.uplink;

/** The topics of one school on the central broker (contract section 3). */
public record UplinkTopics(String cards, String sync, String passes, String gateway) {

  public static UplinkTopics of(String school) {
    String base = "schools/" + school + "/";
    return new UplinkTopics(base + "cards", base + "sync", base + "passes", base + "gateway");
  }
}
