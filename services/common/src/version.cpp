#include "hilnas/common/version.h"

namespace hilnas {

const char* Version() { return HILNAS_VERSION; }

}  // namespace hilnas
