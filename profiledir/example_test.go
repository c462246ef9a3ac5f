package profiledir_test

import (
	"encoding/hex"
	"log"
	"os"

	"github.com/wasend/wasend"
	"github.com/wasend/wasend/chromedpdriver"
	"github.com/wasend/wasend/profiledir"
)

// A pool whose persistent sessions keep their logins, sealed, in a folder
// that every worker mounts: a worker on another machine opens them without
// a QR code. The key (32 bytes, hex) comes from the environment, never
// from the folder.
func Example() {
	key, err := hex.DecodeString(os.Getenv("WASEND_PROFILE_KEY"))
	if err != nil {
		log.Fatal(err)
	}
	seal, err := wasend.NewProfileCipher(key)
	if err != nil {
		log.Fatal(err)
	}
	store, err := profiledir.New("/mnt/shared/wasend-logins")
	if err != nil {
		log.Fatal(err)
	}
	pool, err := chromedpdriver.New(
		chromedpdriver.WithProfileRoot("/var/lib/wasend/profiles"), // local to this machine
		chromedpdriver.WithProfileStore(store),
		chromedpdriver.WithProfileCipher(seal),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	// wasend.New(pool, queue, store, ...) as usual.
}
