package io.decodefleet.agent;

import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.Props;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.cluster.DowningProvider;
import org.apache.pekko.cluster.sbr.SplitBrainResolver;
import org.apache.pekko.cluster.sbr.SplitBrainResolverProvider;
import org.apache.pekko.cluster.sbr.SplitBrainResolverSettings;
import scala.Option;
import scala.concurrent.duration.FiniteDuration;

/**
 * Every node's downing provider (decodefleet-cluster.conf): Pekko's split brain resolver, in which
 * the strategy {@code keep-majority} decides by {@link CoordinatorMajority} (keep-majority over the
 * coordinator role, a tie going to the side with more members, then to the oldest coordinator's);
 * any other strategy (lease-majority on Kubernetes) is Pekko's own, unchanged.
 */
public final class CoordinatorMajorityDowning extends DowningProvider {
  static final String STRATEGY = "keep-majority";

  private final ActorSystem system;
  private final SplitBrainResolverProvider pekko;

  /** Pekko makes the provider by reflection with the node's actor system. */
  public CoordinatorMajorityDowning(ActorSystem system) {
    this.system = system;
    this.pekko = new SplitBrainResolverProvider(system);
  }

  @Override
  public FiniteDuration downRemovalMargin() {
    return pekko.downRemovalMargin();
  }

  @Override
  public Option<Props> downingActorProps() {
    SplitBrainResolverSettings settings = new SplitBrainResolverSettings(system.settings().config());
    if (!STRATEGY.equals(settings.DowningStrategy())) return pekko.downingActorProps();
    Cluster cluster = Cluster.get(system);
    return Option.apply(SplitBrainResolver.props(settings.DowningStableAfter(), new CoordinatorMajority(
        cluster.selfDataCenter(), settings.keepMajorityRole(), cluster.selfUniqueAddress())));
  }
}
