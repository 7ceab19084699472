package schoolgate.support;

import io.vertx.core.json.JsonObject;
import schoolgate.cards.CardEvent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Card events in the contract's wire form (section 3), as the centre or an import file has them. */
public final class CardEvents {

  private CardEvents() {
  }

  public static String holder(long seq, String id, String name, String className, boolean active) {
    return new JsonObject().put("seq", seq).put("type", "holder").put("holder", new JsonObject()
        .put("id", id).put("name", name).put("class", className).put("active", active)).encode();
  }

  public static String card(long seq, String uid, String holder, int issue, String kind, String state) {
    return new JsonObject().put("seq", seq).put("type", "card").put("card", new JsonObject()
        .put("uid", uid).put("holder", holder).put("issue", issue).put("kind", kind).put("state", state))
        .encode();
  }

  /** Parses wire lines the way the uplink and import do. */
  public static List<CardEvent> parse(List<String> lines) {
    List<CardEvent> out = new ArrayList<>();
    lines.forEach(l -> out.add(CardEvent.parse(l)));
    return out;
  }

  public static Path write(Path file, List<String> lines) throws IOException {
    Files.write(file, lines, StandardCharsets.UTF_8);
    return file;
  }
}
