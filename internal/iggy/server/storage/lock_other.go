//go:build !unix

package storage

import (
	"errors"
	"os"
)

// lockFile on systems without flock: the lock file's presence is the lock,
// taken by creating a marker next to it exclusively. A crash leaves the
// marker behind; remove it by hand (the error names it).
func lockFile(f *os.File) error {
	m, err := os.OpenFile(f.Name()+".held", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return errors.New("lock marker " + f.Name() + ".held exists")
		}
		return err
	}
	return m.Close()
}

func unlockFile(f *os.File) error {
	return os.Remove(f.Name() + ".held")
}
