package schoolgate.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Config files may carry full-line {@code //} comments (the production example does). */
class ConfigCommentsTest {

  @TempDir
  Path dir;

  @Test
  void fullLineCommentsAreIgnoredAndSlashesInsideValuesAreKept() throws IOException {
    Path file = dir.resolve("gateway.json");
    Files.writeString(file, String.join("\n",
        "// the school's id",
        "{",
        "  // indented comment with \"quotes\" and { braces",
        "  \"school\": \"sch-239\",",
        "\t// tab-indented comment",
        "  \"db\": {\"mode\": \"external\", \"url\": \"postgresql://gate:pw@127.0.0.1:5432/gate\"}",
        "}",
        "// trailing comment"));
    GatewayConfig config = ConfigLoader.load(file, true, Map.of());
    assertEquals("sch-239", config.school());
    assertEquals("postgresql://gate:pw@127.0.0.1:5432/gate", config.db().url());
  }

  @Test
  void aJsonErrorAfterCommentsStillNamesTheRightLine() throws IOException {
    Path file = dir.resolve("broken.json");
    Files.writeString(file, "// one\n// two\n{\n  \"school\": \"x\",,\n}\n");
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file, true, Map.of()));
    assertTrue(e.getMessage().contains("is not valid JSON: line 4, column 17: Unexpected character"), e.getMessage());
    assertTrue(!e.getMessage().contains("REDACTED"), "Jackson's notes on itself: " + e.getMessage());
  }

  @Test
  void aFileThatIsNotUtf8IsSaidToBeSo() throws IOException {
    Path file = dir.resolve("cp1251.json");
    Files.write(file, "{\"school\": \"\u0448\u043a\u043e\u043b\u0430\"}".getBytes(java.nio.charset.Charset.forName("windows-1251")));
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file, true, Map.of()));
    assertTrue(e.getMessage().contains("is not UTF-8 text"), e.getMessage());
  }

  @Test
  void stripCommentsKeepsTheLineCount() {
    String text = "// a\n{\n//b\n}\n";
    assertEquals("\n{\n\n}\n", ConfigLoader.stripComments(text));
  }
}
