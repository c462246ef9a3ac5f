// Package profiledir is a wasend.ProfileStore in a folder: one file per
// session, for a folder that the worker processes share (NFS, a mounted
// volume) or for tests.
//
// # Files
//
// A session's snapshot is the file <sha256 of its system id, in hex>.snap,
// so that no system id can name a path outside the folder, and ids that
// differ only in case stay apart on file systems that ignore case. The file
// holds a header (the system id, the generation, the size, the checksum,
// when it was taken and how long that took) and the archive. A save writes
// a temporary file in the folder, syncs it and renames it over the old one:
// a reader sees the old snapshot or the new one, never a part of either.
// LoadProfile checks the size and the checksum again.
//
// # Concurrency
//
// A Store is safe for concurrent use. On Unix, saves and deletes of one
// session take an advisory lock (flock) on <hash>.lock, so that the
// generation check and the rename are atomic across processes too; on
// other systems they are atomic within the process only.
//
// # Security
//
// A snapshot is a login (see wasend.ProfileSnapshot): the folder is created
// with mode 0700 and the files with 0600, and the bytes are whatever the
// browser pool saves, sealed if it has a wasend.ProfileCipher.
package profiledir
