package e2e

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// The helpers of the torture test look at the agent from outside, the way
// an operator would: its checkpoint file in data_dir and the files it holds
// open (/proc/<pid>/fd). None of them fails the test; they return errors
// and the caller decides, since they also run on the rotator's goroutine.

// ckptEntry is what the torture test reads of one checkpoint.
type ckptEntry struct {
	Path        string `json:"path"`
	Dev         uint64 `json:"dev"`
	Inode       uint64 `json:"inode"`
	Fingerprint string `json:"fingerprint"`
	Offset      int64  `json:"offset"`
	Generation  uint64 `json:"generation"`
}

// readCheckpoints reads data_dir/checkpoints.json; a missing file is no
// entries (the agent has not synced yet).
func readCheckpoints(dataDir string) (map[string]ckptEntry, error) {
	raw, err := os.ReadFile(filepath.Join(dataDir, "checkpoints.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var f struct {
		Entries map[string]ckptEntry `json:"entries"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("parse checkpoints.json: %w", err)
	}
	return f.Entries, nil
}

// fileID is the identity of a file: device and inode.
type fileID struct{ dev, ino uint64 }

func (id fileID) String() string { return fmt.Sprintf("%d:%d", id.dev, id.ino) }

func idOf(fi os.FileInfo) fileID {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}
	}
	return fileID{uint64(st.Dev), st.Ino}
}

// fdID is the identity and size of an open file.
func fdID(f *os.File) (fileID, int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return fileID{}, 0, err
	}
	return idOf(fi), fi.Size(), nil
}

// entryFor finds the checkpoint of a file by device and inode; with fp set
// (the documented fingerprint format, 32 hex digits), an entry with another
// fingerprint belongs to an earlier file on the same inode and is skipped.
func entryFor(entries map[string]ckptEntry, id fileID, fp string) (ckptEntry, bool) {
	for _, e := range entries {
		if e.Inode != id.ino || (e.Dev != 0 && e.Dev != id.dev) {
			continue
		}
		if fp != "" && len(e.Fingerprint) == len(fp) && e.Fingerprint != fp {
			continue
		}
		return e, true
	}
	return ckptEntry{}, false
}

// headFingerprint computes the fingerprint as checkpoint.Entry documents
// it: hex of the first 16 bytes of the SHA-256 of the file's first line (at
// most 256 bytes). "" while the first line is unfinished.
func headFingerprint(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var head [256]byte
	n, _ := f.ReadAt(head[:], 0)
	h := head[:n]
	if i := bytes.IndexByte(h, '\n'); i >= 0 {
		h = h[:i]
	} else if n < len(head) {
		return ""
	}
	sum := sha256.Sum256(h)
	return hex.EncodeToString(sum[:16])
}

// openFiles lists the regular files process pid holds open under dir, by
// identity, with the path the kernel shows (" (deleted)" when unlinked).
func openFiles(pid int, dir string) (map[fileID]string, int, error) {
	fdDir := "/proc/" + strconv.Itoa(pid) + "/fd"
	ents, err := os.ReadDir(fdDir)
	if err != nil {
		return nil, 0, err
	}
	out := map[fileID]string{}
	for _, e := range ents {
		link := filepath.Join(fdDir, e.Name())
		target, err := os.Readlink(link)
		if err != nil || !strings.HasPrefix(target, dir+"/") {
			continue // closed meanwhile, or not a log file
		}
		fi, err := os.Stat(link) // follows the magic link, even to a deleted file
		if err != nil {
			continue
		}
		out[idOf(fi)] = target
	}
	return out, len(ents), nil
}

// gzipAndRemove does what the kubelet does to a rotated log some time
// later: compress it next to itself and remove the original.
func gzipAndRemove(path string) error {
	in, err := os.Open(path)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(path + ".gz")
	if err != nil {
		return err
	}
	zw := gzip.NewWriter(out)
	if _, err := io.Copy(zw, in); err != nil {
		out.Close()
		return err
	}
	if err := zw.Close(); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Remove(path)
}

// copyFile copies src to dst (copytruncate's copy step).
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
