package main

import (
	"github.com/dapr/components-contrib/bindings/cron"
	"github.com/dapr/components-contrib/bindings/http"
	configpostgres "github.com/dapr/components-contrib/configuration/postgres"
	pubsubkafka "github.com/dapr/components-contrib/pubsub/kafka"
	"github.com/dapr/components-contrib/pubsub/redis"
	"github.com/dapr/components-contrib/secretstores/local/file"
	pgv2 "github.com/dapr/components-contrib/state/postgresql/v2"
	stateredis "github.com/dapr/components-contrib/state/redis"
	"github.com/dapr/dapr/pkg/components"
	bindingsLoader "github.com/dapr/dapr/pkg/components/bindings"
	configurationLoader "github.com/dapr/dapr/pkg/components/configuration"
	pubsubLoader "github.com/dapr/dapr/pkg/components/pubsub"
	secretstoresLoader "github.com/dapr/dapr/pkg/components/secretstores"
	stateLoader "github.com/dapr/dapr/pkg/components/state"
)

// The component types components/local uses, and no others. Upstream's `stablecomponents` set
// compiles in about a hundred (cloud SDKs included): a 129 MB binary of which every sidecar
// touched about 90 MB at start, resident in each of them. build.sh compiles daprd without that
// set (and without upstream's no-set guard, see build.sh), so these registrations are the
// whole catalogue: a component of another type is refused at load with "couldn't find ...".
func init() {
	pubsubLoader.DefaultRegistry.RegisterComponent(redis.NewRedisStreams, "redis")
	// LSP_PUBSUB=kafka (scripts/mesh/kafka.ts) and the chart's dapr.pubsub.type=kafka.
	pubsubLoader.DefaultRegistry.RegisterComponent(pubsubkafka.NewKafka, "kafka")
	stateLoader.DefaultRegistry.RegisterComponent(stateredis.NewRedisStateStore, "redis")
	// Only v2 (actorstate.yaml names it); v1's tables are incompatible and never used here.
	stateLoader.DefaultRegistry.RegisterComponentWithVersions("postgresql", components.Versioning{
		Preferred: components.VersionConstructor{Version: "v2", Constructor: pgv2.NewPostgreSQLStateStore},
		Default:   "v2",
	})
	secretstoresLoader.DefaultRegistry.RegisterComponent(file.NewLocalSecretStore, "local.file")
	bindingsLoader.DefaultRegistry.RegisterOutputBinding(http.NewHTTP, "http")
	bindingsLoader.DefaultRegistry.RegisterInputBinding(cron.NewCron, "cron")
	// Feature flags (components/local/flags.yaml): LISTEN/NOTIFY pushes each change to subscribers.
	configurationLoader.DefaultRegistry.RegisterComponent(configpostgres.NewPostgresConfigurationStore, "postgresql")
}
