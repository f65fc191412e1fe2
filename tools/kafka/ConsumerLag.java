// Prints the consumer lag of every consumer group on the broker: for each group, topic and
// partition it has committed an offset for, the committed offset, the partition's end offset and
// their difference (events published and not yet consumed by that group). One JSON object per
// line on stdout: {"group":…,"topic":…,"partition":…,"committed":…,"end":…,"members":…}.
// What Redis's XINFO GROUPS `lag` says for a stream group, read here through kafka-clients' Admin
// API (the same figures as `kafka-consumer-groups.sh --describe`). Run by scripts/mesh/kafka-lag.ts
// as a single-file program: `java -cp '<lib>/*' ConsumerLag.java <bootstrap servers>`.
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.admin.ListGroupsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

public class ConsumerLag {
  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: ConsumerLag <bootstrap servers>");
      System.exit(2);
    }
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    // A sample must not hang a soak run: a broker that does not answer is an error, quickly.
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000);
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
    try (Admin admin = Admin.create(props)) {
      Collection<GroupListing> listed =
          admin.listGroups(ListGroupsOptions.forConsumerGroups()).all().get(15, TimeUnit.SECONDS);
      List<String> groups = new ArrayList<>();
      for (GroupListing g : listed) groups.add(g.groupId());
      if (groups.isEmpty()) return;

      Map<String, ListConsumerGroupOffsetsSpec> specs = new HashMap<>();
      for (String g : groups) specs.put(g, new ListConsumerGroupOffsetsSpec());
      Map<String, Map<TopicPartition, OffsetAndMetadata>> committed =
          admin.listConsumerGroupOffsets(specs).all().get(15, TimeUnit.SECONDS);
      Map<String, ConsumerGroupDescription> described =
          admin.describeConsumerGroups(groups).all().get(15, TimeUnit.SECONDS);

      Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
      for (Map<TopicPartition, OffsetAndMetadata> offsets : committed.values())
        for (TopicPartition tp : offsets.keySet()) latest.put(tp, OffsetSpec.latest());
      Map<TopicPartition, Long> ends = new HashMap<>();
      admin.listOffsets(latest).all().get(15, TimeUnit.SECONDS)
          .forEach((tp, info) -> ends.put(tp, info.offset()));

      StringBuilder out = new StringBuilder();
      for (String g : groups) {
        ConsumerGroupDescription d = described.get(g);
        int members = d == null ? 0 : d.members().size();
        for (Map.Entry<TopicPartition, OffsetAndMetadata> e : committed.getOrDefault(g, Map.of()).entrySet()) {
          // A partition listed without an offset has none committed: nothing to compare.
          if (e.getValue() == null) continue;
          TopicPartition tp = e.getKey();
          Long end = ends.get(tp);
          if (end == null) continue;
          out.append("{\"group\":").append(json(g))
              .append(",\"topic\":").append(json(tp.topic()))
              .append(",\"partition\":").append(tp.partition())
              .append(",\"committed\":").append(e.getValue().offset())
              .append(",\"end\":").append(end)
              .append(",\"members\":").append(members)
              .append("}\n");
        }
      }
      System.out.print(out);
    }
  }

  /** A JSON string (group ids and topic names may hold any character). */
  private static String json(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') b.append('\\').append(c);
      else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
      else b.append(c);
    }
    return b.append('"').toString();
  }
}
