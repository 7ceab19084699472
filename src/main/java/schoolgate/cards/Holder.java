package schoolgate.cards;

/** A student (card holder). The photo stays in PostgreSQL; only whether there is one is kept here. */
public record Holder(String id, String name, String className, boolean active, boolean hasPhoto) {
}
