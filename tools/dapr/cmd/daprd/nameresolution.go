package main

import (
	"github.com/dapr/components-contrib/nameresolution/sqlite"
	nrLoader "github.com/dapr/dapr/pkg/components/nameresolution"
)

// The stablecomponents set resolves apps with mDNS only, which is shared by every process on
// the network: two local meshes (or a test run beside `npm start`) would answer for each other's
// app ids. The SQLite resolver keeps each mesh's registry in its own file.
func init() {
	nrLoader.DefaultRegistry.RegisterComponent(sqlite.NewResolver, "sqlite")
}
