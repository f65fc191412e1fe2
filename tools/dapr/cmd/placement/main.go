// Command placement runs the upstream Dapr placement at the version pinned in go.mod.
package main

import "github.com/dapr/dapr/cmd/placement/app"

func main() {
	app.Run()
}
