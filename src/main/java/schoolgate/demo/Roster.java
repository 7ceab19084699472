package schoolgate.demo;

import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;

/**
 * A made-up school for the demo and for tests: students with plausible Russian full names,
 * classes 1А..11В, generated photos and card histories as the restoration rules produce
 * them (a lost permanent card replaced by a temporary one, then by a new permanent one),
 * as card events in the contract's format (section 3). The same seed gives the same school,
 * byte for byte.
 */
public final class Roster {

  /** One card in a student's history. {@code newest} is the one that must open. */
  public record IssuedCard(String uid, int issue, String kind, boolean active, boolean newest) {
  }

  /** One student and the card history. */
  public record Student(String id, String name, String className, boolean active, byte[] photo,
                        List<IssuedCard> cards) {

    /** The card that opens the turnstile, or null (newest card blocked, or student inactive). */
    public IssuedCard workingCard() {
      if (!active) {
        return null;
      }
      for (IssuedCard c : cards) {
        if (c.newest() && c.active()) {
          return c;
        }
      }
      return null;
    }
  }

  static final String[] LETTERS = {"А", "Б", "В"};

  private static final String[] MALE_SURNAMES = {
      "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
      "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров",
      "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин",
      "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв",
      "Сергеев", "Кузьмин", "Фролов", "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв",
      "Ильин", "Максимов", "Поляков", "Сорокин", "Виноградов", "Ковалёв", "Белов", "Медведев",
      "Антонов", "Тарасов", "Жуков", "Баранов", "Филиппов", "Комаров", "Давыдов", "Беляев"};
  private static final String[] MALE_NAMES = {
      "Александр", "Максим", "Михаил", "Артём", "Иван", "Дмитрий", "Даниил", "Кирилл", "Андрей",
      "Егор", "Никита", "Илья", "Алексей", "Матвей", "Тимофей", "Роман", "Владимир", "Ярослав",
      "Фёдор", "Георгий", "Константин", "Лев", "Николай", "Степан", "Марк", "Павел", "Арсений"};
  private static final String[] FEMALE_NAMES = {
      "Анастасия", "Мария", "Анна", "Виктория", "Екатерина", "Наталья", "Марина", "Полина",
      "Дарья", "Алиса", "Ксения", "Елизавета", "Софья", "Варвара", "Вероника", "Александра",
      "Ульяна", "Арина", "Василиса", "Милана", "Ева", "Таисия", "Юлия", "Валерия", "Кира"};
  /** Fathers' names and the stem their patronymic is built on. */
  private static final String[][] PATRONYMIC_STEMS = {
      {"Александрович", "Александровна"}, {"Сергеевич", "Сергеевна"}, {"Андреевич", "Андреевна"},
      {"Дмитриевич", "Дмитриевна"}, {"Алексеевич", "Алексеевна"}, {"Иванович", "Ивановна"},
      {"Михайлович", "Михайловна"}, {"Владимирович", "Владимировна"}, {"Николаевич", "Николаевна"},
      {"Петрович", "Петровна"}, {"Олегович", "Олеговна"}, {"Игоревич", "Игоревна"},
      {"Евгеньевич", "Евгеньевна"}, {"Юрьевич", "Юрьевна"}, {"Викторович", "Викторовна"},
      {"Павлович", "Павловна"}, {"Романович", "Романовна"}, {"Константинович", "Константиновна"}};

  private final List<Student> students;
  private final List<String> events;

  private Roster(List<Student> students, List<String> events) {
    this.students = students;
    this.events = events;
  }

  /**
   * A school of {@code count} students. About 12 % lost a permanent card and got a temporary
   * one, then a new permanent one (two superseded cards); 6 % are in between (temporary card
   * working, permanent one superseded); 3 % have their newest card blocked; 1 % are inactive.
   *
   * @param withPhotos false skips the JPEGs (fast, for tests that do not need them)
   */
  public static Roster generate(long seed, int count, boolean withPhotos) {
    Random random = new Random(seed);
    Photos photos = withPhotos ? new Photos() : null;
    Set<String> uids = new HashSet<>();
    List<Student> students = new ArrayList<>();
    for (int i = 1; i <= count; i++) {
      boolean female = random.nextBoolean();
      String surname = pick(random, MALE_SURNAMES);
      String first = pick(random, female ? FEMALE_NAMES : MALE_NAMES);
      String patronymic = PATRONYMIC_STEMS[random.nextInt(PATRONYMIC_STEMS.length)][female ? 1 : 0];
      String name = (female ? feminine(surname) : surname) + " " + first + " " + patronymic;
      String className = (1 + (i - 1) * 11 / count) + LETTERS[random.nextInt(LETTERS.length)];
      boolean active = random.nextInt(100) != 0;

      List<IssuedCard> history = new ArrayList<>();
      int roll = random.nextInt(100);
      String first4 = uid(random, uids);
      if (roll < 12) {
        history.add(new IssuedCard(first4, 1, "permanent", true, false));
        history.add(new IssuedCard(uid(random, uids), 2, "temporary", true, false));
        history.add(new IssuedCard(uid(random, uids), 3, "permanent", true, true));
      } else if (roll < 18) {
        history.add(new IssuedCard(first4, 1, "permanent", true, false));
        history.add(new IssuedCard(uid(random, uids), 2, "temporary", true, true));
      } else if (roll < 21) {
        history.add(new IssuedCard(first4, 1, "permanent", false, true));
      } else {
        history.add(new IssuedCard(first4, 1, "permanent", true, true));
      }
      String id = String.format(Locale.ROOT, "h-%05d", i);
      byte[] photo = photos == null ? null : photos.portrait(random, name, female);
      students.add(new Student(id, name, className, active, photo, Collections.unmodifiableList(history)));
    }
    return new Roster(Collections.unmodifiableList(students), events(students));
  }

  public List<Student> students() {
    return students;
  }

  /** Card events, one JSON object per line, seq 1, 2, 3...: what {@code import} reads. */
  public List<String> events() {
    return events;
  }

  /** Writes {@link #events()} to {@code file}, one per line (UTF-8): a file for {@code import}. */
  public void write(java.nio.file.Path file) throws java.io.IOException {
    java.nio.file.Files.write(file, events, java.nio.charset.StandardCharsets.UTF_8);
  }

  /** Cards that must open the turnstile. */
  public List<String> workingCards() {
    List<String> out = new ArrayList<>();
    students.forEach(s -> {
      IssuedCard c = s.workingCard();
      if (c != null) {
        out.add(c.uid());
      }
    });
    return out;
  }

  /** Older cards of holders who have a newer one: found again after a replacement. */
  public List<String> supersededCards() {
    List<String> out = new ArrayList<>();
    students.forEach(s -> s.cards().stream().filter(c -> !c.newest()).forEach(c -> out.add(c.uid())));
    return out;
  }

  private static List<String> events(List<Student> students) {
    List<String> out = new ArrayList<>();
    long seq = 0;
    for (Student s : students) {
      JsonObject holder = new JsonObject().put("id", s.id()).put("name", s.name())
          .put("class", s.className()).put("active", s.active());
      if (s.photo() != null) {
        holder.put("photo", Base64.getEncoder().encodeToString(s.photo()));
      }
      out.add(new JsonObject().put("seq", ++seq).put("type", "holder").put("holder", holder).encode());
      for (IssuedCard c : s.cards()) {
        JsonObject card = new JsonObject().put("uid", c.uid()).put("holder", s.id())
            .put("issue", c.issue()).put("kind", c.kind()).put("state", c.active() ? "active" : "blocked");
        out.add(new JsonObject().put("seq", ++seq).put("type", "card").put("card", card).encode());
      }
    }
    return Collections.unmodifiableList(out);
  }

  /** Surnames ending in -ов/-ев/-ёв/-ин take -а for a girl. */
  static String feminine(String surname) {
    return surname.endsWith("ов") || surname.endsWith("ев") || surname.endsWith("ёв") || surname.endsWith("ин")
        ? surname + "а" : surname;
  }

  /** A 7-byte MIFARE-style UID (14 hex digits, NXP's 04 first), unique within the roster. */
  static String uid(Random random, Set<String> taken) {
    while (true) {
      StringBuilder sb = new StringBuilder("04");
      for (int i = 0; i < 6; i++) {
        sb.append(String.format(Locale.ROOT, "%02X", random.nextInt(256)));
      }
      if (taken.add(sb.toString())) {
        return sb.toString();
      }
    }
  }

  private static String pick(Random random, String[] values) {
    return values[random.nextInt(values.length)];
  }
}
