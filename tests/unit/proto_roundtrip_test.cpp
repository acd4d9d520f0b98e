// Every top-level message of the hilnas/v1 contract, filled with random values
// in every field (nested messages, repeated fields, enums, oneofs, proto3
// optionals), survives binary serialisation and the JSON mapping unchanged.
// Messages are found by reflection, so a message added later is covered too.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "hilnas/v1/artifact.pb.h"
#include "hilnas/v1/farm_service.pb.h"
#include "hilnas/v1/search_service.pb.h"
#include "hilnas/v1/work_service.pb.h"

namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

const char* const kFiles[] = {
    "hilnas/v1/model.proto",        "hilnas/v1/common.proto",
    "hilnas/v1/artifact.proto",     "hilnas/v1/trial.proto",
    "hilnas/v1/job.proto",          "hilnas/v1/search_service.proto",
    "hilnas/v1/work_service.proto", "hilnas/v1/farm_service.proto",
};

class Filler {
  public:
    explicit Filler(uint64_t seed) : rng_(seed) {}

    void Fill(Message* msg, int depth) {
        const Descriptor* d = msg->GetDescriptor();
        const Reflection* r = msg->GetReflection();
        // Well-known types have range rules in their JSON form.
        if (d->full_name() == "google.protobuf.Timestamp" ||
            d->full_name() == "google.protobuf.Duration") {
            r->SetInt64(msg, d->FindFieldByName("seconds"), Int(0, 4'000'000'000LL));
            r->SetInt32(msg, d->FindFieldByName("nanos"),
                        static_cast<int32_t>(Int(0, 999'999'999)));
            return;
        }
        for (int i = 0; i < d->field_count(); ++i) {
            const FieldDescriptor* f = d->field(i);
            if (f->is_repeated()) {
                const int n = static_cast<int>(Int(0, depth >= 3 ? 0 : 3));
                for (int k = 0; k < n; ++k) AddValue(msg, f, depth);
            } else if (Int(0, 4) != 0) {  // leave some fields unset
                SetValue(msg, f, depth);
            }
        }
    }

  private:
    int64_t Int(int64_t lo, int64_t hi) {
        return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
    }
    double Double() {
        // Edge values too; NaN is left out because NaN != NaN.
        switch (Int(0, 5)) {
            case 0:
                return 0.0;
            case 1:
                return -1.5e300;
            case 2:
                return 4.9e-324;
            default:
                return std::uniform_real_distribution<double>(-1e6, 1e6)(rng_);
        }
    }
    std::string Text(bool binary) {
        std::string s;
        const int n = static_cast<int>(Int(0, 12));
        for (int i = 0; i < n; ++i) {
            s += binary ? static_cast<char>(Int(0, 255)) : static_cast<char>(Int(32, 126));
        }
        if (!binary && Int(0, 3) == 0) s += "\xc3\xa9\xe2\x82\xac";  // é€ in UTF-8
        return s;
    }
    int EnumValue(const FieldDescriptor* f) {
        const auto* e = f->enum_type();
        return e->value(static_cast<int>(Int(0, e->value_count() - 1)))->number();
    }

    void SetValue(Message* msg, const FieldDescriptor* f, int depth) {
        const Reflection* r = msg->GetReflection();
        switch (f->cpp_type()) {
            case FieldDescriptor::CPPTYPE_INT32:
                r->SetInt32(msg, f, static_cast<int32_t>(Int(INT32_MIN, INT32_MAX)));
                break;
            case FieldDescriptor::CPPTYPE_INT64:
                r->SetInt64(msg, f, Int(INT64_MIN, INT64_MAX));
                break;
            case FieldDescriptor::CPPTYPE_UINT32:
                r->SetUInt32(msg, f, static_cast<uint32_t>(Int(0, UINT32_MAX)));
                break;
            case FieldDescriptor::CPPTYPE_UINT64:
                r->SetUInt64(msg, f, static_cast<uint64_t>(Int(0, INT64_MAX)) * 2 + 1);
                break;
            case FieldDescriptor::CPPTYPE_DOUBLE:
                r->SetDouble(msg, f, Double());
                break;
            case FieldDescriptor::CPPTYPE_FLOAT:
                r->SetFloat(msg, f, static_cast<float>(Int(-1000, 1000)) / 8.0f);
                break;
            case FieldDescriptor::CPPTYPE_BOOL:
                r->SetBool(msg, f, Int(0, 1) == 1);
                break;
            case FieldDescriptor::CPPTYPE_ENUM:
                r->SetEnumValue(msg, f, EnumValue(f));
                break;
            case FieldDescriptor::CPPTYPE_STRING:
                r->SetString(msg, f, Text(f->type() == FieldDescriptor::TYPE_BYTES));
                break;
            case FieldDescriptor::CPPTYPE_MESSAGE:
                if (depth < 4) Fill(r->MutableMessage(msg, f), depth + 1);
                break;
        }
    }

    void AddValue(Message* msg, const FieldDescriptor* f, int depth) {
        const Reflection* r = msg->GetReflection();
        switch (f->cpp_type()) {
            case FieldDescriptor::CPPTYPE_INT32:
                r->AddInt32(msg, f, static_cast<int32_t>(Int(INT32_MIN, INT32_MAX)));
                break;
            case FieldDescriptor::CPPTYPE_INT64:
                r->AddInt64(msg, f, Int(INT64_MIN, INT64_MAX));
                break;
            case FieldDescriptor::CPPTYPE_UINT32:
                r->AddUInt32(msg, f, static_cast<uint32_t>(Int(0, UINT32_MAX)));
                break;
            case FieldDescriptor::CPPTYPE_UINT64:
                r->AddUInt64(msg, f, static_cast<uint64_t>(Int(0, INT64_MAX)));
                break;
            case FieldDescriptor::CPPTYPE_DOUBLE:
                r->AddDouble(msg, f, Double());
                break;
            case FieldDescriptor::CPPTYPE_FLOAT:
                r->AddFloat(msg, f, static_cast<float>(Int(-1000, 1000)) / 8.0f);
                break;
            case FieldDescriptor::CPPTYPE_BOOL:
                r->AddBool(msg, f, Int(0, 1) == 1);
                break;
            case FieldDescriptor::CPPTYPE_ENUM:
                r->AddEnumValue(msg, f, EnumValue(f));
                break;
            case FieldDescriptor::CPPTYPE_STRING:
                r->AddString(msg, f, Text(f->type() == FieldDescriptor::TYPE_BYTES));
                break;
            case FieldDescriptor::CPPTYPE_MESSAGE:
                Fill(r->AddMessage(msg, f), depth + 1);
                break;
        }
    }

    std::mt19937_64 rng_;
};

std::vector<const Descriptor*> TopLevelMessages() {
    // Touch one generated type per file so the linker keeps their descriptors.
    (void)hilnas::v1::SubmitJobRequest::descriptor();
    (void)hilnas::v1::LeaseTrialRequest::descriptor();
    (void)hilnas::v1::RegisterAgentRequest::descriptor();
    (void)hilnas::v1::Int8Model::descriptor();
    std::vector<const Descriptor*> out;
    const auto* pool = google::protobuf::DescriptorPool::generated_pool();
    for (const char* name : kFiles) {
        const auto* file = pool->FindFileByName(name);
        if (file == nullptr) throw std::runtime_error(std::string("not linked: ") + name);
        for (int i = 0; i < file->message_type_count(); ++i) out.push_back(file->message_type(i));
    }
    return out;
}

TEST(ProtoRoundTrip, EveryTopLevelMessageThroughBinaryAndJson) {
    const auto messages = TopLevelMessages();
    ASSERT_GE(messages.size(), 60u) << "the contract lost messages";
    google::protobuf::DynamicMessageFactory factory;
    for (const Descriptor* d : messages) {
        SCOPED_TRACE(d->full_name());
        const Message* prototype = factory.GetPrototype(d);
        for (uint64_t seed = 1; seed <= 25; ++seed) {
            std::unique_ptr<Message> original(prototype->New());
            Filler(seed * 7919 + static_cast<uint64_t>(d->index())).Fill(original.get(), 0);

            std::string wire;
            ASSERT_TRUE(original->SerializeToString(&wire));
            std::unique_ptr<Message> from_wire(prototype->New());
            ASSERT_TRUE(from_wire->ParseFromString(wire));
            EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*original, *from_wire))
                << "binary, seed " << seed;

            std::string json;
            ASSERT_TRUE(google::protobuf::util::MessageToJsonString(*original, &json).ok());
            std::unique_ptr<Message> from_json(prototype->New());
            const auto status = google::protobuf::util::JsonStringToMessage(json, from_json.get());
            ASSERT_TRUE(status.ok()) << status.ToString() << "\n" << json;
            EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*original, *from_json))
                << "json, seed " << seed << "\n"
                << json;
        }
    }
}

TEST(ProtoRoundTrip, ProtoThreeOptionalKeepsPresenceOfZero) {
    hilnas::v1::Layer layer;
    layer.set_weight_bits(0);
    layer.set_sparsity(0.0);
    hilnas::v1::Layer back;
    ASSERT_TRUE(back.ParseFromString(layer.SerializeAsString()));
    EXPECT_TRUE(back.has_weight_bits());
    EXPECT_TRUE(back.has_sparsity());
    EXPECT_FALSE(hilnas::v1::Layer().has_weight_bits());
}

TEST(ProtoRoundTrip, ServicesDeclareTheContract) {
    const auto* pool = google::protobuf::DescriptorPool::generated_pool();
    const std::map<std::string, std::set<std::string>> expected = {
        {"hilnas.v1.SearchService",
         {"SubmitJob", "GetJob", "ListJobs", "WatchJob", "CancelJob", "ListTrials", "GetTrial",
          "GetParetoFront", "GetArtifact", "ListBoards", "ListWorkers"}},
        {"hilnas.v1.WorkService",
         {"LeaseTrial", "Heartbeat", "ReportProgress", "CompleteTrial", "FailTrial",
          "FetchArtifact"}},
        {"hilnas.v1.FarmService",
         {"RegisterAgent", "LeaseMeasurement", "Heartbeat", "CompleteMeasurement",
          "FailMeasurement", "ReportBoardHealth"}},
    };
    for (const auto& [service, methods] : expected) {
        const auto* s = pool->FindServiceByName(service);
        ASSERT_NE(s, nullptr) << service;
        std::set<std::string> actual;
        for (int i = 0; i < s->method_count(); ++i) actual.insert(s->method(i)->name());
        EXPECT_EQ(actual, methods) << service;
    }
    const auto* watch = pool->FindMethodByName("hilnas.v1.SearchService.WatchJob");
    ASSERT_NE(watch, nullptr);
    EXPECT_TRUE(watch->server_streaming());
}

}  // namespace
