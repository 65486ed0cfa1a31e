package server

import "errors"

func openDiskStorage(dir string, cfg Config) (Storage, error) {
	return nil, errors.New("disk storage not wired yet")
}
