// The mqfleet binary: everything happens in mqfleet_main (apps/mqfleet/cli.cpp).
#include "cli.hpp"

int main(int argc, char** argv) { return mqfleet::cli::mqfleet_main(argc, argv); }
