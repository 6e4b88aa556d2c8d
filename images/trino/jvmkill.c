/* A JVMTI agent that kills the JVM when it runs out of heap or threads, so Kubernetes restarts the
 * pod instead of leaving a server that limps on. */
#include <jvmti.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static void JNICALL on_exhausted(jvmtiEnv *jvmti, JNIEnv *jni, jint flags, const void *reserved,
                                 const char *description) {
    static const char prefix[] = "jvmkill: resource exhausted, killing the JVM: ";
    (void)jvmti;
    (void)jni;
    (void)flags;
    (void)reserved;
    if (write(2, prefix, sizeof prefix - 1) < 0 ||
        (description && write(2, description, strlen(description)) < 0) || write(2, "\n", 1) < 0) {
        /* nothing more to say: the kill below is what matters */
    }
    kill(getpid(), SIGKILL);
}

JNIEXPORT jint JNICALL Agent_OnLoad(JavaVM *vm, char *options, void *reserved) {
    jvmtiEnv *jvmti;
    jvmtiEventCallbacks callbacks;
    (void)options;
    (void)reserved;
    if ((*vm)->GetEnv(vm, (void **)&jvmti, JVMTI_VERSION_1_0) != JNI_OK) {
        return JNI_ERR;
    }
    memset(&callbacks, 0, sizeof callbacks);
    callbacks.ResourceExhausted = on_exhausted;
    if ((*jvmti)->SetEventCallbacks(jvmti, &callbacks, sizeof callbacks) != JVMTI_ERROR_NONE ||
        (*jvmti)->SetEventNotificationMode(jvmti, JVMTI_ENABLE, JVMTI_EVENT_RESOURCE_EXHAUSTED, NULL) !=
            JVMTI_ERROR_NONE) {
        return JNI_ERR;
    }
    return JNI_OK;
}
