//! Giving freed memory back to the operating system.
//!
//! The binary's allocator (mimalloc) keeps memory freed by one thread for a while, to hand it out
//! again without asking the OS, and only gives it back when some thread allocates later. A
//! server that stops after a burst of appends would keep the burst's garbage resident.

/// Returns what the allocator holds freed to the OS, from every thread's heap it can reach.
pub fn release_freed() {
    // SAFETY: `mi_collect` has no preconditions; under another allocator it has nothing to free.
    unsafe { libmimalloc_sys::mi_collect(true) };
}
