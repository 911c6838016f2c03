// Package gridmap reads grid-mapfiles and group-mapfiles and leases pool
// entries from a gridmapdir, with the semantics of LCMAPS's basic plugins
// (lcmaps_gridmapfile.c and lcmaps_gridmapdir.c, as pinned down against the
// real library in the reference notes §7.1–§7.2).
//
// Pool leasing relies only on the atomicity of link(2) and on link counts,
// never on in-process locks, so any number of processes on one node, and
// nodes sharing the directory over NFS, can lease from one pool; it shares
// a directory with the C plugins without confusing them.
package gridmap
