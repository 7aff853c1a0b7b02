//go:build !unix

package dirlock

import "os"

// tryLock always succeeds where flock does not exist: the folder is not
// protected there.
func tryLock(*os.File) (bool, error) { return true, nil }

func unlockFile(*os.File) error { return nil }
