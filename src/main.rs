// Scans allocate per file, per match and while compiling rules, from several threads:
// mimalloc's thread-local heaps cut the allocator's share of a scan's instructions.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(keywarden::cli::main());
}
