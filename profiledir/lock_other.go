//go:build !unix

package profiledir

import "os"

// lockFile does nothing: saves are atomic within the process only.
func lockFile(*os.File) error { return nil }
