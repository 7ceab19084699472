package schoolgate.cards;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.util.Base64;

/**
 * One card event from the centre (contract section 3), parsed and validated. The same class
 * serves the uplink and {@code import}: both hand parsed events to {@link CardEventApplier}.
 */
public sealed interface CardEvent
    permits CardEvent.HolderChange, CardEvent.HolderRemoved, CardEvent.CardChange {

  /** Largest photo accepted, decoded. A school ID photo is 10-60 KB. */
  int MAX_PHOTO_BYTES = 512 * 1024;

  long seq();

  /**
   * A holder created or updated. {@code photo}: absent in the event = keep the stored one
   * ({@link PhotoChange#KEEP}); JSON null = remove it; a base64 JPEG = replace it.
   */
  record HolderChange(long seq, String id, String name, String className, boolean active,
                      PhotoChange photoChange, byte[] photo) implements CardEvent {
  }

  /**
   * A holder the centre no longer keeps at this school (left the school, data erased):
   * {@code {"seq": N, "type": "holder", "holder": {"id": "h-1", "removed": true}}}. The
   * holder's name, class and photo and the cards bound to the holder are deleted; the
   * newest-card mark stays (it holds no personal data and must never go down).
   */
  record HolderRemoved(long seq, String id) implements CardEvent {
  }

  record CardChange(long seq, String uid, String holderId, int issue, Card.Kind kind,
                    boolean active) implements CardEvent {
    public Card card() {
      return new Card(uid, holderId, issue, kind, active);
    }
  }

  enum PhotoChange { KEEP, REMOVE, REPLACE }

  static CardEvent parse(String line) {
    JsonObject json;
    try {
      json = new JsonObject(line);
    } catch (DecodeException | ClassCastException e) {
      throw new BadInput("not a JSON object");
    }
    return parse(json);
  }

  static CardEvent parse(JsonObject json) {
    Object seqValue = json.getValue("seq");
    if (!(seqValue instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())
        || n.longValue() < 1) {
      throw new BadInput("seq must be a positive integer");
    }
    long seq = n.longValue();
    Object type = json.getValue("type");
    if ("holder".equals(type)) {
      JsonObject h = object(json, "holder");
      String id = text(h, "holder.id", 64);
      Object removed = h.getValue("removed");
      if (removed != null && !(removed instanceof Boolean)) {
        throw new BadInput("holder.removed must be true or false");
      }
      if (Boolean.TRUE.equals(removed)) {
        return new HolderRemoved(seq, id);
      }
      String name = text(h, "holder.name", 200);
      Object cls = h.getValue("class");
      if (!(cls instanceof String className) || className.length() > 32) {
        throw new BadInput("holder.class must be a string of at most 32 characters");
      }
      Object active = h.getValue("active");
      if (!(active instanceof Boolean isActive)) {
        throw new BadInput("holder.active must be true or false");
      }
      PhotoChange change = PhotoChange.KEEP;
      byte[] photo = null;
      if (h.containsKey("photo")) {
        Object p = h.getValue("photo");
        if (p == null) {
          change = PhotoChange.REMOVE;
        } else if (p instanceof String b64) {
          try {
            photo = Base64.getMimeDecoder().decode(b64);
          } catch (IllegalArgumentException e) {
            throw new BadInput("holder.photo is not base64");
          }
          if (photo.length == 0 || photo.length > MAX_PHOTO_BYTES) {
            throw new BadInput("holder.photo must be 1.." + MAX_PHOTO_BYTES + " bytes");
          }
          change = PhotoChange.REPLACE;
        } else {
          throw new BadInput("holder.photo must be a base64 string or null");
        }
      }
      return new HolderChange(seq, id, name, className, isActive, change, photo);
    }
    if ("card".equals(type)) {
      JsonObject c = object(json, "card");
      Object rawUid = c.getValue("uid");
      String uid = rawUid instanceof String s ? CardUid.normalize(s) : null;
      if (uid == null) {
        throw new BadInput("card.uid must be 8, 14 or 20 hex digits");
      }
      String holder = text(c, "card.holder", 64);
      Object issue = c.getValue("issue");
      if (!(issue instanceof Number i) || i.doubleValue() != Math.rint(i.doubleValue())
          || i.longValue() < 1 || i.longValue() > Integer.MAX_VALUE) {
        throw new BadInput("card.issue must be a positive integer");
      }
      Object kind = c.getValue("kind");
      Card.Kind k;
      if ("permanent".equals(kind)) {
        k = Card.Kind.PERMANENT;
      } else if ("temporary".equals(kind)) {
        k = Card.Kind.TEMPORARY;
      } else {
        throw new BadInput("card.kind must be \"permanent\" or \"temporary\"");
      }
      Object state = c.getValue("state");
      if (!"active".equals(state) && !"blocked".equals(state)) {
        throw new BadInput("card.state must be \"active\" or \"blocked\"");
      }
      return new CardChange(seq, uid, holder, i.intValue(), k, "active".equals(state));
    }
    throw new BadInput("type must be \"holder\" or \"card\"");
  }

  private static JsonObject object(JsonObject json, String key) {
    Object v = json.getValue(key);
    if (!(v instanceof JsonObject o)) {
      throw new BadInput(key + " must be a JSON object");
    }
    return o;
  }

  private static String text(JsonObject json, String name, int max) {
    Object v = json.getValue(name.substring(name.indexOf('.') + 1));
    if (!(v instanceof String s) || s.isBlank() || s.length() > max) {
      throw new BadInput(name + " must be a non-empty string of at most " + max + " characters");
    }
    return s;
  }
}
