fn main() {
    lineage_ledger::cli::run();
}
