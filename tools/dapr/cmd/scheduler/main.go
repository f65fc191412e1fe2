// Command scheduler runs the upstream Dapr scheduler at the version pinned in go.mod.
package main

import "github.com/dapr/dapr/cmd/scheduler/app"

func main() {
	app.Run()
}
