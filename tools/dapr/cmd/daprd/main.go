// Command daprd runs the upstream Dapr daprd at the version pinned in go.mod.
package main

import "github.com/dapr/dapr/cmd/daprd/app"

func main() {
	app.Run()
}
