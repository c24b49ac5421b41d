//! What the fuzz targets share: an allocation limit that holds with or without a sanitizer.
//!
//! libFuzzer's `-malloc_limit_mb` (by default its `-rss_limit_mb`) relies on a sanitizer's
//! malloc hooks, so a build without AddressSanitizer (the stable toolchain) would let a huge
//! allocation through as long as its pages are never touched. This crate's global allocator
//! applies the same limit itself: an allocation (or reallocation) above it aborts the process
//! with a message, which libFuzzer reports as a crash and saves as an artifact. The check
//! runs after the allocator, so under AddressSanitizer libFuzzer's own out-of-memory report
//! comes first. Each target calls [`init`] once, which reads the limit from the command line
//! libFuzzer was given.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The largest allocation allowed, in bytes; 0 until [`init`] (no limit).
static LIMIT: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, with [`LIMIT`] checked on every allocation.
pub struct LimitedAlloc;

#[global_allocator]
static ALLOC: LimitedAlloc = LimitedAlloc;

// SAFETY: every method delegates to `System` with the caller's arguments unchanged and returns
// its result; the added check only reads an atomic and may abort.
unsafe impl GlobalAlloc for LimitedAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, passed on as is.
        let p = unsafe { System.alloc(layout) };
        check(layout.size());
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        check(layout.size());
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` and `layout` come from this allocator, i.e. from `System`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        check(new_size);
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` and `layout` come from this allocator, i.e. from `System`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Aborts if `size` is above the limit. Allocates nothing itself.
fn check(size: usize) {
    let limit = LIMIT.load(Ordering::Relaxed);
    if limit == 0 || size <= limit {
        return;
    }
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = size;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(b"==weir-fuzz== out-of-memory: an allocation of ");
    let _ = err.write_all(&digits[at..]);
    let _ = err.write_all(b" bytes, above -malloc_limit_mb\n");
    std::process::abort();
}

/// Sets the allocation limit from libFuzzer's flags on the command line: `-malloc_limit_mb`,
/// or, when it is absent or 0, `-rss_limit_mb` (default 2048), as libFuzzer does.
pub fn init() {
    let flag = |name: &str| -> Option<usize> {
        std::env::args()
            .filter_map(|a| a.strip_prefix(name)?.parse().ok())
            .next_back()
    };
    let mb = match flag("-malloc_limit_mb=") {
        Some(mb) if mb > 0 => mb,
        _ => flag("-rss_limit_mb=").unwrap_or(2048),
    };
    LIMIT.store(mb.saturating_mul(1 << 20), Ordering::Relaxed);
}
