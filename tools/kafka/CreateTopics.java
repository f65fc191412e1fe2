// Creates the topics named on the command line that the broker does not have yet (one partition,
// one replica: the local single-node broker), so that every consumer group Dapr makes finds its
// topic at once. Without this a subscription to a topic nobody has published to yet fails until
// the first publish creates it, and a group starting at the newest offset misses that first event.
// Run by scripts/mesh/kafka.ts as a single-file program (`java -cp '<lib>/*' CreateTopics.java
// <brokers> <topic>…`) against kafka-clients' Admin API, which the broker's jars include.
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;

public class CreateTopics {
  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: CreateTopics <bootstrap servers> <topic>...");
      System.exit(2);
    }
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 60_000);
    try (Admin admin = Admin.create(props)) {
      Set<String> existing = admin.listTopics().names().get();
      List<NewTopic> missing = new ArrayList<>();
      for (int i = 1; i < args.length; i++) {
        if (!existing.contains(args[i])) missing.add(new NewTopic(args[i], 1, (short) 1));
      }
      admin.createTopics(missing).all().get();
      System.out.println("created " + missing.size() + " of " + (args.length - 1) + " topics");
    }
  }
}
