fn main() {
    std::process::exit(keywarden::cli::main());
}
