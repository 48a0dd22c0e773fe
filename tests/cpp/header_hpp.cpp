// dgen.hpp on its own: it brings everything it needs, whatever the include
// order of the program.
#include "dgen.hpp"

int main() {
    dgen::Generator gen(dgen::Config().size(4096).seed(1));
    return gen.read(5000).size() == 4096 && gen.is_complete() ? 0 : 1;
}
