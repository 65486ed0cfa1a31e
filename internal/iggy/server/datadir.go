package server

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
)

// DefaultDataDir is where `ims server` keeps its data unless told otherwise:
// $XDG_DATA_HOME/ims/iggy, else ~/.local/share/ims/iggy on Unix,
// ~/Library/Application Support/ims/iggy on macOS and
// %LocalAppData%\ims\iggy on Windows.
func DefaultDataDir() (string, error) {
	if x := os.Getenv("XDG_DATA_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "ims", "iggy"), nil
	}
	switch runtime.GOOS {
	case "windows":
		if d := os.Getenv("LocalAppData"); d != "" {
			return filepath.Join(d, "ims", "iggy"), nil
		}
		return "", errors.New("%LocalAppData% is not set")
	case "darwin", "ios":
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(home, "Library", "Application Support", "ims", "iggy"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".local", "share", "ims", "iggy"), nil
}
