//go:build !unix

package server

import "time"

func processCPUTime() (time.Duration, bool) { return 0, false }

func (s *Server) diskSpace() (free, total uint64) { return 0, 0 }
