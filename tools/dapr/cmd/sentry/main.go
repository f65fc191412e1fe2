// Command sentry runs the upstream Dapr Sentry (the mesh's mTLS certificate authority) at the
// version pinned in go.mod.
package main

import "github.com/dapr/dapr/cmd/sentry/app"

func main() {
	app.Run()
}
