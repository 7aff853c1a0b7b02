// Package dirlock guards a folder against two flowlab processes writing it at
// once: an advisory lock (flock) on a file inside the folder, held for the
// life of the process's work and released by the kernel when the process
// ends, however it ends, so a killed process leaves no stale lock behind.
package dirlock

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// Name is the lock file's name inside a locked folder.
const Name = ".flowlab.lock"

// ErrLocked is wrapped by the error Lock returns when another process holds
// the folder.
var ErrLocked = errors.New("folder is in use by another flowlab process")

// Lock takes the folder's lock without waiting and returns the function that
// releases it. The folder must exist. When another process holds it, the
// error wraps ErrLocked and names the folder and, where it can be read, the
// holder's process id.
func Lock(dir string) (unlock func() error, err error) { return LockNamed(dir, Name) }

// LockNamed is Lock with a lock file of another name, for a second lock on
// one folder that guards something else (a sweep's cell, around the
// training run inside it): locks of different names do not exclude each
// other.
func LockNamed(dir, name string) (unlock func() error, err error) {
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	held, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	if !held {
		pid := holder(f)
		f.Close()
		if pid != "" {
			return nil, fmt.Errorf("%s: %w (pid %s); wait for it to finish or stop it", dir, ErrLocked, pid)
		}
		return nil, fmt.Errorf("%s: %w; wait for it to finish or stop it", dir, ErrLocked)
	}
	// The pid is for the message above only; the lock is the flock itself.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() error {
		if err := unlockFile(f); err != nil {
			f.Close()
			return fmt.Errorf("unlock %s: %w", dir, err)
		}
		return f.Close()
	}, nil
}

// holder reads the pid the lock's holder wrote, or "".
func holder(f *os.File) string {
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	s := string(bytes.TrimSpace(b[:n]))
	if _, err := strconv.Atoi(s); err != nil {
		return ""
	}
	return s
}
