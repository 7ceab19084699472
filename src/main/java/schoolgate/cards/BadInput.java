package schoolgate.cards;

/** Outside input that does not follow the contract; the message says what is wrong with it. */
public class BadInput extends RuntimeException {
  public BadInput(String message) {
    super(message, null, false, false);
  }
}
