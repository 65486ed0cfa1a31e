//go:build unix

package storage

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock without waiting. flock locks
// belong to the open file, so two opens in one process exclude each other
// too, and the kernel drops the lock when the process dies.
func lockFile(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			return err
		}
	}
}

func unlockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}
