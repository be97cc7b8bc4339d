#include "fuzz_target.hpp"
